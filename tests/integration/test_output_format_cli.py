"""`render --output-format`: EXR in, EXR out on servers that can; an old server left out or named.

The simulator profiles reproduce what a real 0.33 and 0.8.2 did (tests/sim/test_sim_float_images.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List

import numpy
import OpenEXR
import pytest

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.exr_header import read_exr_header

pytestmark = pytest.mark.integration
IDENTITY = {"1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}, "_meta": {"title": "Nuke Input"}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "id"}}}


def setup(tmp_path: Path, cluster: Any, width: int = 32, half: bool = False) -> List[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "flow.json").write_text(json.dumps(IDENTITY))
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": f"gpu{i}", "url": url} for i, url in enumerate(cluster.urls)],
                                  "poll_interval": 0.2}))
    plates = tmp_path / "plates"
    plates.mkdir()
    for frame in (1, 2, 3, 4):
        values = numpy.full((4, width), [0.25, 8.0, -0.5, 0.5][frame - 1], numpy.float32)
        data = {k: values.astype(numpy.float16 if half else numpy.float32) for k in "RGB"}
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, data) as exr:
            exr.write(str(plates / f"plate.{frame:04d}.exr"))
    return ["render", str(tmp_path / "flow.json"), "--output", str(tmp_path / "out"), "--input",
            str(plates / "plate.####.exr"), "--frames", "1-4", "--config", str(config), "--journal",
            str(tmp_path / "journal.sqlite3"), "--json"]


def outputs(capsys: pytest.CaptureFixture) -> List[str]:
    summary = json.loads(capsys.readouterr().out)
    return sorted(path for job in summary["jobs"] for path in job["outputs"])


def test_auto_sends_exr_exactly_and_saves_32bit_exr(sim_cluster: Any, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    argv = setup(tmp_path, sim_cluster(2, comfy_version="0.33.0"))
    assert main(argv) == 0
    files = outputs(capsys)
    assert [Path(f).suffix for f in files] == [".exr"] * 4
    with OpenEXR.File(files[1], separate_channels=True) as exr:
        assert float(exr.channels()["R"].pixels[0, 0]) == 8.0  # HDR kept end to end, as on a real 0.33


@pytest.mark.parametrize("choice, suffix", [("png16", ".png"), ("png", ".png"), ("exr", ".exr")])
def test_each_output_format(choice: str, suffix: str, sim_cluster: Any, tmp_path: Path,
                            capsys: pytest.CaptureFixture) -> None:
    argv = setup(tmp_path, sim_cluster(1, comfy_version="0.33.0"))
    assert main([*argv, "--output-format", choice]) == 0
    files = outputs(capsys)
    assert {Path(f).suffix for f in files} == {suffix}
    if choice == "png16":
        assert Path(files[0]).read_bytes()[24] == 16  # 16 bits per channel in the PNG header


def test_an_old_server_is_left_out_and_named(sim_cluster: Any, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    argv = setup(tmp_path, sim_cluster(2, comfy_version=["0.8.2", "0.33.0"]))
    assert main(argv) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert {job["server"] for job in summary["jobs"]} == {"gpu1"}
    assert "pixels: gpu0 (ComfyUI 0.8.2): cannot load EXR (ComfyUI 0.21+ can); left out of this render" in \
        captured.err


def test_no_server_that_loads_exr_is_one_clear_line(sim_cluster: Any, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    argv = setup(tmp_path, sim_cluster(1, comfy_version="0.8.2"))
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("nuke-comfyui render: no server can load the EXR input") and "give PNG frames" in err[-1]
    assert "gpu0 (ComfyUI 0.8.2): cannot load EXR" in err[-1] and len(err) == 1


def test_an_unaligned_exr_is_refused_on_025_plus_and_half_floats_are_noted(sim_cluster: Any, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    argv = setup(tmp_path, sim_cluster(1, comfy_version="0.33.0"), width=50)
    assert main(argv) == 1
    assert "cannot load a float image 50 px wide" in capsys.readouterr().err
    argv = setup(tmp_path / "half", sim_cluster(1, comfy_version="0.33.0"), half=True)
    assert read_exr_header(str(tmp_path / "half" / "plates" / "plate.0001.exr")).half  # type: ignore[union-attr]
    assert main(argv) == 0
    assert "holds half floats: ComfyUI 0.33 dithers them" in capsys.readouterr().err


def test_inputs_lists_what_each_server_does_with_image_files(sim_cluster: Any, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    argv = setup(tmp_path, sim_cluster(2, comfy_version=["0.8.2", "0.33.0"]))
    config = argv[argv.index("--config") + 1]
    assert main(["inputs", argv[1], "--config", config]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "images on gpu0 (ComfyUI 0.8.2): 8-bit PNG" in out
    assert "images on gpu1 (ComfyUI 0.33.0): EXR in, EXR/PNG16 out" in out
    assert main(["inputs", argv[1], "--config", config, "--json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # the JSON listing stays machine-readable
    assert "images on gpu1 (ComfyUI 0.33.0): EXR in, EXR/PNG16 out" in captured.err


def test_a_farm_task_decides_its_pixels_as_the_nuke_node_did(sim_cluster: Any, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    """A bundle carries the node's decided pixels as render arguments (core/pixels render_arguments),
    so each farm task rewrites SaveImage and decodes an sRGB plate the same way on its own servers."""
    import uuid

    from nuke_comfyui.core.pixels.choices import render_arguments
    from nuke_comfyui.core.render_request import RenderRequest
    from nuke_comfyui.farm_bundle.template import BundleOptions, task_arguments

    pixels = {"encoding": "srgb", "plate": "exr-float", "results": "exr", "notes": [], "width": 32}
    request = RenderRequest(workflow_path="/w.json", output_dir="/out", input_pattern="/p/plate.####.exr",
                            frames="1-4", pixels=pixels)
    assert render_arguments(pixels) == ["--output-format", "exr", "--plate-encoding", "srgb"]
    args = task_arguments(request, BundleOptions())
    assert args[args.index("--output-format"):args.index("--output-format") + 4] == render_arguments(pixels)
    argv = setup(tmp_path, sim_cluster(1, comfy_version="0.33.0"))
    task = [*argv, "--task-frames", "1-4", "--group-id", uuid.uuid4().hex, *render_arguments(pixels)]
    assert main(task) == 0, capsys.readouterr().err
    files = outputs(capsys)
    assert [Path(f).suffix for f in files] == [".exr"] * 4
    with OpenEXR.File(files[0], separate_channels=True) as exr:  # 0.25 sRGB-decoded on save: 0.0508...
        assert float(exr.channels()["R"].pixels[0, 0]) == pytest.approx(((0.25 + 0.055) / 1.055) ** 2.4, rel=1e-5)
