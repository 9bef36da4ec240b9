"""`render --chunk-size N --overlap K --seam ...` from the command line: progress, summary and
`groups` speak in chunks and frames."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from nuke_comfyui.cli.main import main

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TEMPORAL = Path(__file__).resolve().parent / "data" / "temporal_smooth_sim.json"


def setup_shot(sim_cluster: Any, tmp_path: Path, frames: int = 10, servers: int = 2) -> tuple:
    cluster = sim_cluster(servers)
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": f"sim{i}", "url": u} for i, u in enumerate(cluster.urls)]}))
    plates = tmp_path / "plates"
    plates.mkdir()
    for frame in range(1, frames + 1):
        Image.new("RGB", (8, 8), (frame * 20, 0, 255 - frame * 20)).save(plates / f"plate.{frame:04d}.png")
    return cluster, config, str(plates / "plate.####.png")


def test_progress_summary_and_groups_speak_in_chunks(sim_cluster: Any, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    _cluster, config, pattern = setup_shot(sim_cluster, tmp_path)
    journal = str(tmp_path / "j.sqlite3")
    argv = ["render", str(EXAMPLES / "temporal_batch.json"), "--output", str(tmp_path / "out"), "--input", pattern,
            "--frames", "1-10", "--chunk-size", "4", "--overlap", "1", "--config", str(config), "--journal", journal]
    assert main(argv) == 0
    captured = capsys.readouterr()
    out, progress = captured.out, captured.err  # progress lines go to stderr, the summary to stdout
    assert {line.split(" completed")[0] for line in progress.splitlines() if " completed on " in line} == {
        "frames 1-4 var01", "frames 4-7 var01", "frames 7-10 var01"}
    assert "3/3 chunks completed (10 frames), 0 failed" in out
    assert main(["groups", "--journal", journal]) == 0
    listing = capsys.readouterr().out
    assert "3/3 chunks" in listing and "(frames 1-10 in chunks of 4, overlap 1)" in listing
    assert main(["groups", "--journal", journal, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["chunk_size"], row["overlap"], row["seam"], row["completed"]) == (4, 1, "crossfade", 3)


def test_an_input_animated_within_a_chunk_is_said_before_the_render(sim_cluster: Any, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    _cluster, config, pattern = setup_shot(sim_cluster, tmp_path, frames=8, servers=1)
    values = tmp_path / "values.json"  # the blur keyed at frame 3: inside chunk 1-4
    values.write_text(json.dumps({"frame_values": {"2.sigma": {str(f): 1.0 if f < 3 else 2.0 for f in range(1, 9)}}}))
    argv = ["render", str(EXAMPLES / "temporal_batch.json"), "--output", str(tmp_path / "out"), "--input", pattern,
            "--frames", "1-8", "--chunk-size", "4", "--values", str(values), "--config", str(config),
            "--journal", str(tmp_path / "j.sqlite3")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if line.startswith("chunks: ")]
    assert "input 2.sigma is animated within chunk 1-4 (from 1.0 to 2.0)" in line


def test_render_json_lists_each_chunks_frames(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _cluster, config, pattern = setup_shot(sim_cluster, tmp_path, frames=6, servers=1)
    argv = ["render", str(EXAMPLES / "invert.json"), "--output", str(tmp_path / "out"), "--input", pattern,
            "--frames", "1-6", "--chunk-size", "3", "--seam", "cut", "--config", str(config),
            "--journal", str(tmp_path / "j.sqlite3"), "--json"]
    assert main(argv) == 0
    jobs = json.loads(capsys.readouterr().out)["jobs"]
    assert [job["frames"] for job in jobs] == [[1, 2, 3], [4, 5, 6]]


@pytest.mark.parametrize(("extra", "message"), [
    (["--chunk-size", "4", "--overlap", "4"], "overlap 4 must be smaller than the chunk size 4"),
    (["--chunk-size", "40"], "chunk size 40 is larger than the shot (10 frames, 1-10)"),
])
def test_bad_chunking_is_one_line_before_anything_runs(sim_cluster: Any, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture, extra: list,
                                                        message: str) -> None:
    cluster, config, pattern = setup_shot(sim_cluster, tmp_path, servers=1)
    argv = ["render", str(EXAMPLES / "invert.json"), "--output", str(tmp_path / "out"), "--input", pattern,
            "--frames", "1-10", *extra, "--config", str(config), "--journal", str(tmp_path / "j.sqlite3")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert cluster.servers[0].prompt_count == 0


def test_a_workflow_with_no_batch_input_is_refused(sim_cluster: Any, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    cluster, config, _pattern = setup_shot(sim_cluster, tmp_path, servers=1)
    argv = ["render", str(EXAMPLES / "txt2img_variations.json"), "--output", str(tmp_path / "out"),
            "--frames", "1-10", "--chunk-size", "5", "--config", str(config), "--journal", str(tmp_path / "j.sqlite3")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "a chunk size of 5 sends each chunk's frames as one batch to the workflow's input" in err
    assert "Traceback" not in err and cluster.servers[0].prompt_count == 0


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9")
def test_resume_after_a_kill_mid_chunk_renders_no_finished_chunk_again(sim_cluster: Any, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture) -> None:
    import numpy as np

    from nuke_comfyui.core.chunk_plan import ChunkPlan
    from nuke_comfyui.core.journal import Journal
    from nuke_comfyui.sim.batch_nodes import temporal_smooth

    cluster, config, pattern = setup_shot(sim_cluster, tmp_path, frames=13)
    for server in cluster.servers:
        server.options.seconds_per_step = 0.15  # 2 steps x 4 frames: about 1.2 s a chunk
    journal = tmp_path / "j.sqlite3"
    common = ["--config", str(config), "--journal", str(journal)]
    render = [sys.executable, "-m", "nuke_comfyui", "render", str(TEMPORAL), "--output", str(tmp_path / "out"),
              "--input", pattern, "--frames", "1-13", "--chunk-size", "4", "--overlap", "1", *common]
    child = subprocess.Popen(render, cwd=ROOT, env=dict(os.environ, NUKE_COMFYUI_DATA_DIR=str(tmp_path / "data")),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        group = None
        deadline = time.monotonic() + 60
        while group is None and time.monotonic() < deadline:
            assert child.poll() is None, child.communicate()
            if journal.exists():
                with Journal(journal) as reader:
                    for row in reader.groups():
                        if any(job.state == "completed" for job in reader.jobs(row.id)):
                            group = row.id
            time.sleep(0.05)
        assert group is not None, "no chunk completed in time"
        os.kill(child.pid, signal.SIGKILL)  # mid-render: other chunks are on the servers
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    with Journal(journal) as reader:
        finished = {job.id for job in reader.jobs(group) if job.state == "completed"}
    at_kill = sum(s.prompt_count for s in cluster.servers)
    assert 1 <= len(finished) < 4
    for server in cluster.servers:
        server.options.seconds_per_step = 0.002
    assert main(["resume", group[:8], "--json", *common]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["state"] == "completed"
    assert sorted(f for s in summary["sequences"] for f in s["frames_done"]) == list(range(1, 14))
    # a finished chunk is never sent again: only chunks unfinished at the kill were (re)sent
    assert sum(s.prompt_count for s in cluster.servers) <= at_kill + (4 - len(finished))
    plan = ChunkPlan(range(1, 14), 4, 1)
    folder = Path(summary["sequences"][0]["pattern"]).parent
    for frame in range(1, 14):
        expected = 0.0
        for chunk_index, weight in plan.weights(frame):
            frames = plan.chunks[chunk_index].frames
            inputs = [Image.open(pattern.replace("####", f"{f:04d}")).convert("RGB") for f in frames]
            (out,), _ = temporal_smooth(None, image=inputs)  # type: ignore[arg-type]
            expected = expected + np.asarray(out[frames.index(frame)], dtype=np.float64) / 255.0 * float(weight)
        with Image.open(folder / f"temporal_smooth_sim_var01.{frame:04d}.png") as made:
            assert np.array_equal(np.asarray(made.convert("RGB")), np.clip(np.rint(expected * 255.0), 0, 255)), frame
