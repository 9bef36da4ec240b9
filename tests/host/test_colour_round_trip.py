"""Render on the simulator through the script's own OCIO config: each encoding's round trip, every config.

The plate is a float EXR Read in the working space; the Comfy node renders an identity workflow
(LoadImage -> SaveImage) on a simulated 0.33 (EXR plates in, SaveImageAdvanced EXR out, as
measured on a real 0.33); the result Read is written back raw and compared with the plate. The
fake's configs and float files are tested in test_fake_nuke_colour.py, the simulator's float
paths in tests/sim/test_sim_float_images.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, List, Tuple

import nuke
import numpy
import OpenEXR
import pytest

from nuke_comfyui.host import job_state, knobs, render
from nuke_comfyui.host.colour import script_colour_names
from nuke_comfyui.host.session import get_session

FINAL = ("completed", "partial", "failed", "cancelled")
CONFIGS = Path(__file__).parent / "fake_nuke" / "configs"
CG = "fn-nuke_cg-config-v1.0.0_aces-v1.3_ocio-v2.1"
VALUES = [0.0, 0.001, 0.0181, 0.18, 0.5, 0.9, 1.0, 4.0, 64.0]
WIDTH = 64  # a multiple of 32: ComfyUI 0.25+ loads float images only at such widths


def use_config(name: str, custom: str = "") -> None:
    if custom:
        nuke.root()["customOCIOConfigPath"].setValue(custom)
    nuke.root()["OCIO_config"].setValue(name)


def plate(folder: Path, frames: Tuple[int, ...] = (1001,)) -> Any:
    """A float EXR per frame: VALUES along the row (grey), the rest of the row 0.5; a Read of it."""
    folder.mkdir(parents=True, exist_ok=True)
    row = numpy.full(WIDTH, 0.5, numpy.float32)
    row[:len(VALUES)] = VALUES
    grey = numpy.tile(row, (2, 1))
    for frame in frames:
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                          {"R": grey, "G": grey, "B": grey}) as exr:
            exr.write(str(folder / f"plate.{frame:04d}.exr"))
    read = nuke.nodes.Read()
    read["file"].fromUserText(f"{folder / 'plate.%04d.exr'} {frames[0]}-{frames[-1]}")
    return read


def identity(folder: Path) -> Path:
    path = folder / "identity.json"
    path.write_text(json.dumps({
        "1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}, "_meta": {"title": "Nuke Input"}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "id"}}}))
    return path


@pytest.fixture()
def farm(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    def start(versions: List[str]) -> Any:
        cluster = sim_cluster(len(versions), comfy_version=versions)
        monkeypatch.setenv("NUKE_COMFYUI_SERVERS", json.dumps(
            [{"name": f"gpu{i}", "host": "127.0.0.1", "port": p} for i, p in enumerate(cluster.ports)]))
        monkeypatch.setenv("NUKE_COMFYUI_POLL_INTERVAL", "0.2")
        return cluster

    return start


def render_node(tmp_path: Path, pump: Any, encoding: str) -> Tuple[Any, Any]:
    node = nuke.createNode(knobs.NODE_CLASS)
    node["workflow_file"].setValue(str(identity(tmp_path)))
    node["frame_range_mode"].setValue("custom")
    node["custom_frames"].setValue("1001")
    node["output_dir"].setValue(str(tmp_path / "renders"))
    node["plate_encoding"].setValue(encoding)
    node.setInput(0, plate(tmp_path / "plate"))
    group_id = render.render_node(node.name())
    pump(lambda: job_state.load(nuke.toNode(node.name())).state in FINAL, 30)
    snapshot = get_session().farm.scheduler.snapshot(group_id)
    assert snapshot.state.value == "completed", [j.error for j in snapshot.jobs if j.error]
    state = job_state.load(nuke.toNode(node.name()))
    return node, nuke.toNode(next(iter(state.reads.values())))


def back_in_working_space(read: Any, tmp_path: Path) -> Any:
    """The result Read's frame 1001 written raw as float: what the result is in the working space."""
    write = nuke.nodes.Write(file=str(tmp_path / "check.exr"), file_type="exr")
    write["datatype"].setValue("32 bit float")
    write["raw"].setValue(True)
    write.setInput(0, read)
    nuke.execute(write, 1001, 1001)
    with OpenEXR.File(str(tmp_path / "check.exr"), separate_channels=True) as exr:
        return exr.channels()["R"].pixels[0, :len(VALUES)].astype(numpy.float64)


@pytest.mark.parametrize("encoding", ["sRGB", "log", "linear / data"])
def test_each_encoding_round_trips_on_the_fn_nuke_config(encoding: str, farm: Any, tmp_path: Path,
                                                          pump: Any) -> None:
    """sRGB within 1/4096 in [0, 1]; log keeps 64.0 within 0.5 %; linear exact in [0, 1]."""
    use_config(CG)
    farm(["0.33.0"])
    node, read = render_node(tmp_path, pump, encoding)
    out, expected = back_in_working_space(read, tmp_path), numpy.array(VALUES, numpy.float32).astype(numpy.float64)
    assert read["file"].getText().endswith(".exr")
    inside = expected <= 1.0
    if encoding == "sRGB":
        assert read["colorspace"].value() == "Linear Rec.709 (sRGB)"  # SaveImageAdvanced decoded the sRGB
        assert numpy.abs(out[inside] - expected[inside]).max() <= 1 / 4096
        assert "4 plate pixels outside [0, 1]" in node["pixel_notes"].value()  # 4.0 and 64.0, two rows
    elif encoding == "log":
        assert read["colorspace"].value() == "ACEScct"  # the config's compositing_log, written through
        assert abs(out[-1] - 64.0) / 64.0 <= 0.005
    else:
        assert bool(read["raw"].value())
        assert numpy.array_equal(out[inside], expected[inside])
    written = sorted((tmp_path / "renders" / "_input").rglob("*.exr"))
    if encoding == "linear / data":
        assert not written  # the Read's own EXR files already hold the working space: sent as they are
    else:
        assert written, "the plate went as EXR to a server that loads it"


@pytest.mark.parametrize("config, custom, srgb, log", [
    ("nuke-default", "", "sRGB", "Log3G10"),
    ("aces_1.2", "", "Utility - sRGB - Texture", "ACES - ACEScct"),
    (CG, "", "sRGB - Texture", "ACEScct"),
    ("custom", "ocio://studio-config-v1.0.0_aces-v1.3_ocio-v2.1", "sRGB - Texture", "ACEScct"),
    ("custom", str(CONFIGS / "studio-unnamed" / "config.ocio"), "scene", "scene"),  # its defaults, noted
])
def test_names_come_from_each_config_and_the_render_never_fails(config: str, custom: str, srgb: str, log: Any,
                                                                 farm: Any, tmp_path: Path, pump: Any) -> None:
    use_config(config, custom)
    names = script_colour_names()
    assert (names.srgb.name, names.log.name) == (srgb, log)
    farm(["0.33.0"])
    node, read = render_node(tmp_path, pump, "sRGB")
    notes = str(node["pixel_notes"].value())
    if config == "custom" and custom.endswith(".ocio"):
        assert "has no sRGB texture space; assumed the project's default 'scene'" in notes
        assert read["raw"].value() or read["colorspace"].value() == "scene"  # read back as it was assumed
    out = back_in_working_space(read, tmp_path)
    expected = numpy.array(VALUES)
    assert numpy.abs(out[expected <= 1] - expected[expected <= 1]).max() <= 1 / 4096


def test_a_farm_with_an_old_server_sends_png_and_names_it(farm: Any, tmp_path: Path, pump: Any) -> None:
    """gpu0 runs 0.8.2 (no PyAV loading, no SaveImageAdvanced): 8-bit PNG both ways, said on the node."""
    farm(["0.8.2", "0.33.0"])
    node, read = render_node(tmp_path, pump, "sRGB")
    notes = str(node["pixel_notes"].value())
    assert notes.startswith("plate: 8-bit PNG, sRGB; results: as the workflow saves")
    assert "gpu0 (ComfyUI 0.8.2): cannot load EXR (ComfyUI 0.21+ can)" in notes
    assert "values above 1 clip" in notes and "4 plate pixels outside [0, 1]" in notes
    assert read["file"].getText().endswith(".png") and read["colorspace"].value() == "sRGB"
    out = back_in_working_space(read, tmp_path)
    srgb = numpy.array(VALUES[:7])
    assert numpy.abs(out[:7] - srgb).max() < 0.01  # 8 bits: within a code value after the sRGB curve


def test_a_mask_input_without_alpha_is_named_before_any_frame_is_written(farm: Any, tmp_path: Path) -> None:
    """The workflow reads LoadImage's MASK; the arrow's Read is an RGB PNG (no alpha, no auto alpha):
    Nuke would write no alpha and ComfyUI would get an empty mask, so Render says so first."""
    from PIL import Image

    from nuke_comfyui.host.knobs import NodeSetupError

    farm(["0.33.0"])
    flow = tmp_path / "mask.json"
    flow.write_text(json.dumps({
        "1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}, "_meta": {"title": "Nuke Input"}},
        "2": {"class_type": "MaskToImage", "inputs": {"mask": ["1", 1]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "m"}}}))
    (tmp_path / "rgb").mkdir()
    Image.new("RGB", (32, 2), (10, 20, 30)).save(tmp_path / "rgb" / "p.1001.png")
    read = nuke.nodes.Read()
    read["file"].fromUserText(f"{tmp_path / 'rgb' / 'p.%04d.png'} 1001-1001")
    assert read.channels() == ["rgba.red", "rgba.green", "rgba.blue"]
    node = nuke.createNode(knobs.NODE_CLASS)
    node["workflow_file"].setValue(str(flow))
    node["frame_range_mode"].setValue("custom")
    node["custom_frames"].setValue("1001")
    node["output_dir"].setValue(str(tmp_path / "renders"))
    node.setInput(0, read)
    with pytest.raises(NodeSetupError, match=r"input 'Nuke Input' \(input 1\) feeds the mask of LoadImage node 1, "
                                             r"but Read\d+ has no alpha channel; give it an alpha"):
        render.render_node(node.name())
    assert not (tmp_path / "renders").exists() or not list((tmp_path / "renders").rglob("*.png"))
    read["auto_alpha"].setValue(True)
    assert read.channels()[-1] == "rgba.alpha"
