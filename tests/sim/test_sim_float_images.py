"""The simulator's float paths match what a real ComfyUI 0.33 / 0.8.2 did on loopback.

The recorded figures are in tests/sim/data/comfyui-0.33-float-paths.json (how they were measured
is said there); the 0.33 SaveImageAdvanced record is the lead's capture of GET /object_info.
"""

from __future__ import annotations

import gzip
import io
import json
import tempfile
import uuid
from fractions import Fraction
from pathlib import Path
from typing import Any, Dict

import av
import numpy as np
import OpenEXR
import pytest
import requests
from simkit import upload, wait_history

RECORDED = json.loads((Path(__file__).parent / "data" / "comfyui-0.33-float-paths.json").read_text())
REAL = RECORDED["comfyui_0.33.0"]
CAPTURE_033 = Path("/work/shared/comfyui-0.33-captures/object_info.json.gz")


def exr(channels: Dict[str, Any], half: bool = False) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.exr"
        data = {k: np.ascontiguousarray(v, dtype=np.float16 if half else np.float32) for k, v in channels.items()}
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, data) as f:
            f.write(str(path))
        return path.read_bytes()


def read_exr(data: bytes) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.exr"
        path.write_bytes(data)
        with OpenEXR.File(str(path), separate_channels=True) as f:
            out = {k: v.pixels.astype(np.float64) for k, v in f.channels().items()}
            out["_header"] = dict(f.header())
        return out


def png16(rgb: Any) -> bytes:
    height, width = rgb.shape[:2]
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt, codec.time_base = width, height, "rgb48be", Fraction(1, 1)
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, dtype=np.uint16), format="rgb48le")
    frame = frame.reformat(format="rgb48be")
    frame.pts = 0
    return b"".join(bytes(p) for p in [*codec.encode(frame), *codec.encode(None)])


def saver(source: list, fmt: str = "exr", depth: str = "32-bit float", space: str = "linear",
          prefix: str = "t/out") -> Dict[str, Any]:
    return {"class_type": "SaveImageAdvanced", "inputs": {"images": source, "filename_prefix": prefix,
                                                          "format": fmt, "format.bit_depth": depth,
                                                          "format.input_color_space": space}}


def run(url: str, prompt: Dict[str, Any]) -> Dict[str, Any]:
    pid = str(uuid.uuid4())
    answer = requests.post(f"{url}/prompt", json={"prompt": prompt, "client_id": "t", "prompt_id": pid}, timeout=10)
    assert answer.status_code == 200, answer.text
    return wait_history(url, pid)  # type: ignore[no-any-return]


def fetched(url: str, entry: Dict[str, Any], node: str) -> bytes:
    item = entry["outputs"][node]["images"][0]
    return requests.get(f"{url}/view", params=item, timeout=10).content


def put(url: str, name: str, data: bytes) -> str:
    answer = upload(url, name, data, overwrite="true", subfolder="t").json()
    return f"{answer['subfolder']}/{answer['name']}"


@pytest.fixture
def new(sim_cluster: Any) -> str:
    return sim_cluster(1, comfy_version="0.33.0").urls[0]  # type: ignore[no-any-return]


def test_a_float_exr_loads_exactly_with_hdr_and_its_alpha_as_the_inverted_mask(new: str) -> None:
    ramp = np.linspace(-0.5, 8.0, 64 * 32, dtype=np.float32).reshape(32, 64)
    alpha = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (32, 1))
    name = put(new, "ramp.exr", exr({"R": ramp, "G": ramp * 0.5, "B": np.full_like(ramp, 0.25), "A": alpha}))
    entry = run(new, {"1": {"class_type": "LoadImage", "inputs": {"image": name}},
                      "2": saver(["1", 0]),
                      "3": {"class_type": "MaskToImage", "inputs": {"mask": ["1", 1]}},
                      "4": saver(["3", 0], prefix="t/mask")})
    image, mask = read_exr(fetched(new, entry, "2")), read_exr(fetched(new, entry, "4"))
    assert REAL["exr_float32"]["max_error_in_0_1"] == 0.0
    assert np.array_equal(image["R"], ramp.astype(np.float64))  # above 1 and below 0 kept, as measured
    assert np.abs(mask["R"] - (1 - alpha)).max() <= REAL["exr_float32"]["mask_is_one_minus_alpha_max_error"]
    assert sorted(k for k in image if not k.startswith("_")) == sorted(REAL["save_exr_srgb"]["channels"])
    assert str(image["_header"]["compression"]).endswith(REAL["save_exr_srgb"]["compression"])
    assert entry["outputs"]["2"]["images"][0]["filename"].endswith("_00001.exr")


def test_half_exr_and_16bit_png_are_dithered_and_clamped_as_measured(new: str) -> None:
    values = np.linspace(-0.25, 1.5, 64 * 16, dtype=np.float32).reshape(16, 64)
    half = put(new, "h.exr", exr({"R": values, "G": values, "B": values}, half=True))
    codes = (np.linspace(0, 1, 64 * 16).reshape(16, 64) * 65535).round().astype(np.uint16)
    wide = put(new, "w.png", png16(np.stack([codes] * 3, -1)))
    entry = run(new, {"1": {"class_type": "LoadImage", "inputs": {"image": half}}, "2": saver(["1", 0]),
                      "3": {"class_type": "LoadImage", "inputs": {"image": wide}}, "4": saver(["3", 0], prefix="t/p")})
    got_half, got_png = read_exr(fetched(new, entry, "2"))["R"], read_exr(fetched(new, entry, "4"))["R"]
    assert got_half.min() >= REAL["exr_half"]["clamped_to"][0] and got_half.max() <= REAL["exr_half"]["clamped_to"][1]
    inside = (values >= 0) & (values <= 1)
    error = np.abs(got_half[inside] - values.astype(np.float16).astype(np.float64)[inside])
    assert 0 < error.max() <= REAL["exr_half"]["max_error_in_0_1"]
    png_error = np.abs(got_png - codes / 65535.0)
    assert 1e-5 < png_error.max() <= REAL["png_16bit"]["max_error"]


def test_an_unaligned_float_width_fails_like_the_real_server(new: str) -> None:
    width = REAL["unaligned_width"]["widths_tried"][0]
    name = put(new, "odd.exr", exr({k: np.full((7, width), 0.5) for k in "RGB"}))
    entry = run(new, {"1": {"class_type": "LoadImage", "inputs": {"image": name}}, "2": saver(["1", 0])})
    error = dict(entry["status"]["messages"])["execution_error"]
    assert (error["exception_type"], error["exception_message"]) == (
        REAL["unaligned_width"]["exception_type"], REAL["unaligned_width"]["exception_message"])
    from nuke_comfyui.core.comfy.types import ExecutionFailure
    from nuke_comfyui.core.scheduler.failures import describe_failure

    reason = describe_failure(ExecutionFailure("1", "LoadImage", error["exception_type"], error["exception_message"],
                                               False))
    assert reason.endswith("from 0.25 it must be a multiple of 32): reformat the plate, or send 8-bit PNG")


def test_save_image_advanced_decodes_srgb_and_saves_16bit_png(new: str) -> None:
    from PIL import Image

    codes = np.arange(256, dtype=np.uint8)
    plate = np.stack([codes, codes[::-1], np.full(256, 128, np.uint8)], -1).reshape(1, 256, 3)
    buffer = io.BytesIO()
    Image.fromarray(plate).save(buffer, "PNG")
    name = put(new, "c8.png", buffer.getvalue())
    entry = run(new, {"1": {"class_type": "LoadImage", "inputs": {"image": name}},
                      "2": saver(["1", 0], space="sRGB"), "3": saver(["1", 0], "png", "16-bit", "sRGB", "t/p16")})
    decoded = read_exr(fetched(new, entry, "2"))
    v = codes / 255.0
    iec = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    assert np.abs(decoded["R"][0] - iec).max() <= REAL["save_exr_srgb"]["max_error_vs_iec_srgb_eotf"]
    assert decoded["_header"]["chromaticities"][0] == pytest.approx(0.64)
    with av.open(io.BytesIO(fetched(new, entry, "3"))) as container:
        frame = next(container.decode(video=0))
        assert frame.format.name == "rgb48be"
        assert np.array_equal(frame.to_ndarray(format="rgb48le")[0, :, 0], (v * 65535).astype(np.uint16))


def test_save_image_advanced_validates_its_dynamic_combo_flat_keys(new: str) -> None:
    base = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}}
    missing = {**base, "2": {"class_type": "SaveImageAdvanced", "inputs": {
        "images": ["1", 0], "filename_prefix": "t", "format": "exr", "format.input_color_space": "linear"}}}
    answer = requests.post(f"{new}/prompt", json={"prompt": missing}, timeout=10)
    assert answer.status_code == 400
    errors = answer.json()["node_errors"]["2"]["errors"]
    assert [(e["type"], e["details"]) for e in errors] == [("required_input_missing", "format.bit_depth")]
    wrong = {**base, "2": saver(["1", 0], depth="16-bit")}
    errors = requests.post(f"{new}/prompt", json={"prompt": wrong}, timeout=10).json()["node_errors"]["2"]["errors"]
    assert errors[0]["type"] == "value_not_in_list" and "format.bit_depth" in errors[0]["details"]


def test_object_info_matches_the_real_033_capture(new: str) -> None:
    ours = requests.get(f"{new}/object_info/SaveImageAdvanced", timeout=10).json()["SaveImageAdvanced"]
    if not CAPTURE_033.is_file():
        pytest.skip(f"{CAPTURE_033} is not on this machine")
    with gzip.open(CAPTURE_033, "rt", encoding="utf-8") as fh:
        real = json.load(fh)
    assert ours == real["SaveImageAdvanced"]
    assert requests.get(f"{new}/object_info/LoadImage", timeout=10).json()["LoadImage"]["input_order"] == \
        real["LoadImage"]["input_order"]


def test_an_old_server_refuses_exr_and_has_no_advanced_saver(sim_cluster: Any) -> None:
    url = sim_cluster(1, comfy_version="0.8.2").urls[0]
    name = put(url, "old.exr", exr({k: np.full((4, 64), 0.5) for k in "RGB"}))
    entry = run(url, {"1": {"class_type": "LoadImage", "inputs": {"image": name}},
                      "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t/o"}}})
    error = dict(entry["status"]["messages"])["execution_error"]
    old = RECORDED["comfyui_0.8.2"]["exr"]
    assert error["exception_type"] == old["exception_type"]
    assert error["exception_message"].startswith("cannot identify image file")
    from nuke_comfyui.core.comfy.types import ExecutionFailure
    from nuke_comfyui.core.scheduler.failures import describe_failure

    reason = describe_failure(ExecutionFailure("1", "LoadImage", error["exception_type"], error["exception_message"],
                                               False))
    assert "this ComfyUI cannot read EXR (0.21 and newer can)" in reason
    assert requests.get(f"{url}/object_info/SaveImageAdvanced", timeout=10).json() == {}
