"""`render --chunk-size N --overlap K --seam ...` from the command line: progress, summary and
`groups` speak in chunks and frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from nuke_comfyui.cli.main import main

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


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
        "frames 1-4 v01", "frames 4-7 v01", "frames 7-10 v01"}
    assert "3/3 chunks completed (10 frames), 0 failed" in out
    assert main(["groups", "--journal", journal]) == 0
    listing = capsys.readouterr().out
    assert "3/3 chunks" in listing and "(frames 1-10 in chunks of 4, overlap 1)" in listing
    assert main(["groups", "--journal", journal, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["chunk_size"], row["overlap"], row["seam"], row["completed"]) == (4, 1, "crossfade", 3)


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
