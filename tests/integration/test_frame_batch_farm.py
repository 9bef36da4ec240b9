"""A frame-batch job bundle run by openjd-cli equals the local render, pixel for pixel: its tasks
render whole chunks, and the Seams step blends what the tasks could not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import numpy as np
import pytest
import yaml
from PIL import Image

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.farm_bundle.template import BundleOptions, job_template, parameter_values

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
TEMPORAL = Path(__file__).resolve().parent / "data" / "temporal_smooth_sim.json"


def _worker(tmp_path: Path) -> str:
    installed = BIN / "nuke-comfyui"
    if installed.exists():
        return str(installed)
    launcher = tmp_path / "nuke-comfyui"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m nuke_comfyui "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


def _plate(folder: Path, frames: range) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(11)
    for frame in frames:
        Image.fromarray(rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)).save(folder / f"p.{frame:04d}.png")
    return folder / "p.####.png"


def _pixels(folder: Path) -> Dict[str, bytes]:
    found = {}
    for path in sorted(folder.rglob("*.png")):
        if not any(part.startswith(".") for part in path.relative_to(folder).parts):
            with Image.open(path) as image:
                found[str(path.relative_to(folder))] = image.convert("RGB").tobytes()
    return found


def test_tasks_range_over_whole_chunks_and_a_seams_step_follows() -> None:
    request = RenderRequest(workflow_path=str(TEMPORAL), output_dir="/farm/out", input_pattern="/farm/p.####.png",
                            frames="1-20", chunk_size=8, overlap=2)
    template = job_template(request, BundleOptions())
    render, seams = template["steps"]
    assert render["parameterSpace"]["taskParameterDefinitions"][0]["range"] == "{{Param.ChunkStarts}}"
    assert parameter_values(request, BundleOptions())["ChunkStarts"] == "1-13:6"
    assert parameter_values(request, BundleOptions(frames_per_task=16))["ChunkSize"] == 2  # two whole chunks
    args = render["script"]["actions"]["onRun"]["args"]
    assert args[args.index("--overlap") + 1] == "2" and args[args.index("--seam") + 1] == "crossfade"
    assert seams["dependencies"] == [{"dependsOn": "Render"}]
    assert seams["script"]["actions"]["onRun"]["args"][-1] == "--finish-seams"
    assert "{{Task.Param.Frame}}" not in seams["script"]["actions"]["onRun"]["args"]
    cut = RenderRequest(**{**request.__dict__, "seam": "cut"})
    assert [s["name"] for s in job_template(cut, BundleOptions())["steps"]] == ["Render"]  # nothing to blend


def test_openjd_run_of_a_frame_batch_bundle_equals_the_local_render(sim_cluster, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(2)
    plate = _plate(tmp_path / "plates", range(1, 15))
    common = ["--input", str(plate), "--frames", "1-14", "--chunk-size", "4", "--overlap", "1"]
    assert main(["bundle", str(TEMPORAL), "--output", str(tmp_path / "farm"), *common,
                 "--bundle-dir", str(tmp_path / "bundle"), "--worker-command", _worker(tmp_path), "--json"]) == 0
    group = json.loads(capsys.readouterr().out)["group_id"]
    values = yaml.safe_load((tmp_path / "bundle" / "parameter_values.yaml").read_text())
    starts = {v["name"]: v["value"] for v in values["parameterValues"]}["ChunkStarts"]
    assert starts == "1-13:3"  # chunks 1-4, 4-7, 7-10, 10-13, 13-14

    servers = [{"name": f"sim{i}", "url": url} for i, url in enumerate(cluster.urls)]
    env = dict(os.environ, NUKE_COMFYUI_SERVERS=json.dumps(servers), NUKE_COMFYUI_DATA_DIR=str(tmp_path / "w"),
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    command = [str(BIN / "openjd"), "run", str(tmp_path / "bundle" / "template.yaml"), "-p", f"Workflow={TEMPORAL}",
               "-p", f"OutputDir={tmp_path / 'farm'}", "-p", f"InputPattern={plate}", "--step", "Render"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Chunks run: 5" in done.stdout  # one task per chunk
    seams = subprocess.run([*command[:-1], "Seams"], env=env, capture_output=True, text=True, timeout=60,
                           check=False)
    assert seams.returncode == 0, seams.stdout[-3000:]
    farm = _pixels(tmp_path / "farm" / f"temporal_smooth_sim_{group[:8]}")

    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": servers}))
    assert main(["render", str(TEMPORAL), "--output", str(tmp_path / "local"), *common, "--config", str(config),
                 "--journal", str(tmp_path / "j.sqlite3"), "--json"]) == 0
    local_group = json.loads(capsys.readouterr().out)["group_id"]
    local = _pixels(tmp_path / "local" / f"temporal_smooth_sim_{local_group[:8]}")
    assert sorted(farm) == [f"var01/temporal_smooth_sim_var01.{f:04d}.png" for f in range(1, 15)]
    assert farm == local


def test_the_seams_step_blends_what_tasks_left_and_names_what_still_waits(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    """Two tasks that finished together on two machines may each miss the other's render: the
    renders wait in .seams/ and the last step makes the frames (or says which chunk is missing)."""
    from nuke_comfyui.core.chunk_plan import ChunkPlan
    from nuke_comfyui.core.seams import staged_path

    plate = _plate(tmp_path / "plates", range(1, 8))
    group = "a" * 32
    folder = tmp_path / "farm" / f"temporal_smooth_sim_{group[:8]}" / "var01"
    (folder / ".seams").mkdir(parents=True)
    (folder.parent / ".nuke_comfyui_group").write_text(group)
    rng = np.random.default_rng(5)
    renders = {}
    for chunk, frame in ((0, 4), (1, 4)):
        pixels = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        renders[chunk] = pixels.astype(np.float64)
        Image.fromarray(pixels).save(staged_path(folder, "temporal_smooth_sim_var01", frame, chunk, ".png"))
    argv = ["render", str(TEMPORAL), "--output", str(tmp_path / "farm"), "--input", str(plate), "--frames", "1-7",
            "--chunk-size", "4", "--overlap", "1", "--group-id", group, "--finish-seams"]
    assert main(argv) == 0
    assert "blended 1 shared frames" in capsys.readouterr().err
    (frame_weights,) = [ChunkPlan(range(1, 8), 4, 1).weights(4)]
    expected = sum(renders[c] / 255.0 * float(w) for c, w in frame_weights)
    with Image.open(folder / "temporal_smooth_sim_var01.0004.png") as made:
        assert np.array_equal(np.asarray(made.convert("RGB")), np.clip(np.rint(expected * 255.0), 0, 255))
    assert not list((folder / ".seams").iterdir())

    (folder / "temporal_smooth_sim_var01.0004.png").unlink()
    Image.new("RGB", (6, 6)).save(staged_path(folder, "temporal_smooth_sim_var01", 4, 0, ".png"))  # chunk 1 missing
    assert main(argv) == 1
    assert "var01 frames 4 still wait for a chunk; re-run the failed render tasks" in capsys.readouterr().err
