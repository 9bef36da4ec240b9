"""Bad render input (issue 15) through `nuke-comfyui render`: one exact message, exit 1, nothing sent.

Each case runs the real CLI against a simulator on 127.0.0.1 and checks that no prompt reached a
server, that no job group was journaled, and that nothing was written outside the chosen folders.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from PIL import Image

from nuke_comfyui.cli.main import main

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _config(tmp_path: Path, cluster: Any, **extra: Any) -> Path:
    servers: List[Dict[str, Any]] = [{"name": f"sim{i}", "url": url, **extra} for i, url in enumerate(cluster.urls)]
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"servers": servers}))
    return path


def _plates(folder: Path, frames: range) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for f in frames:
        Image.new("RGB", (8, 8), (f * 20 % 255, 0, 0)).save(folder / f"plate.{f:04d}.png")
    return str(folder / "plate.####.png")


def _render(tmp_path: Path, cluster: Any, capsys: pytest.CaptureFixture, *, workflow: Optional[Path] = None,
            output: Optional[str] = None, extra: Optional[List[str]] = None, config: Optional[Path] = None) -> str:
    """Run `render`; assert exit 1 and that nothing was sent or journaled; return stderr."""
    journal = tmp_path / "journal.sqlite3"
    argv = ["render", str(workflow or EXAMPLES / "txt2img_variations.json"),
            "--output", output or str(tmp_path / "out"),
            "--config", str(config or _config(tmp_path, cluster)), "--journal", str(journal)] + (extra or [])
    assert main(argv) == 1
    assert sum(server.prompt_count for server in cluster.servers) == 0
    assert not journal.exists()  # the farm (and its journal) never started
    err: str = capsys.readouterr().err
    return err.strip()


def test_output_folder_is_a_file(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    blocker = tmp_path / "out.txt"
    blocker.write_text("not a folder")
    assert _render(tmp_path, cluster, capsys, output=str(blocker)) == (
        f"nuke-comfyui render: output folder {blocker} cannot be used: {blocker} is a file, not a folder; "
        "choose a folder you can write to")


def test_output_folder_under_a_file(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert _render(tmp_path, cluster, capsys, output=str(blocker / "a" / "b")) == (
        f"nuke-comfyui render: output folder {blocker / 'a' / 'b'} cannot be used: {blocker} is a file, not a "
        "folder; choose a folder you can write to")


def test_output_folder_under_proc(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    message = _render(tmp_path, cluster, capsys, output="/proc/nuke-comfyui-out")
    assert message in (
        "nuke-comfyui render: output folder /proc/nuke-comfyui-out cannot be used: No such file or directory; "
        "choose a folder you can write to",
        "nuke-comfyui render: output folder /proc/nuke-comfyui-out cannot be used: Permission denied; "
        "choose a folder you can write to")
    assert not os.path.exists("/proc/nuke-comfyui-out")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_output_folder_read_only(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert _render(tmp_path, cluster, capsys, output=str(locked / "out")) == (
            f"nuke-comfyui render: output folder {locked / 'out'} cannot be used: Permission denied; "
            "choose a folder you can write to")
    finally:
        locked.chmod(0o755)


def test_deeply_nested_workflow(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    workflow = tmp_path / "deep.json"
    workflow.write_text("[" * 100_000 + "]" * 100_000)
    assert _render(tmp_path, cluster, capsys, workflow=workflow) == (
        f"nuke-comfyui render: workflow {workflow} is nested more than 64 levels deep, which no ComfyUI "
        "workflow is; export it again in API format")


def test_huge_workflow(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    workflow = tmp_path / "huge.json"
    with open(workflow, "wb") as fh:  # sparse: 40 MB on paper, nothing on disk; refused before reading
        fh.truncate(40 * 1024 * 1024)
    assert _render(tmp_path, cluster, capsys, workflow=workflow) == (
        f"nuke-comfyui render: workflow {workflow} is 40 MB; a workflow may be at most 32 MB (embedded images "
        "belong in input files)")


def test_missing_input_frames_are_one_error_before_any_job(sim_cluster: Any, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    pattern = _plates(tmp_path / "plates", range(1, 6))
    assert _render(tmp_path, cluster, capsys, workflow=EXAMPLES / "img2img.json",
                   extra=["--input", pattern, "--frames", "1-8"]) == (
        f"nuke-comfyui render: 3 of 8 input frames of {pattern} are not on disk (frames 6-8: "
        f"{tmp_path}/plates/plate.0006.png, {tmp_path}/plates/plate.0007.png, {tmp_path}/plates/plate.0008.png); "
        "render only the frames that exist (e.g. --frames) or fix the input path")


def test_a_million_frames_are_refused(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    assert _render(tmp_path, cluster, capsys, extra=["--frames", "1-1000000"]) == (
        "nuke-comfyui render: frame set '1-1000000': range '1-1000000' has more than 50,000 frames, the most one "
        "render takes; split it into several renders")
    assert _render(tmp_path, cluster, capsys, extra=["--frames", "1-40000,50001-90000"]) == (
        "nuke-comfyui render: frame set '1-40000,50001-90000' has more than 50,000 frames, the most one render "
        "takes; split it into several renders")


def test_too_many_jobs_are_refused(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    assert _render(tmp_path, cluster, capsys, extra=["--frames", "1-20000"]) == (
        "nuke-comfyui render: this render would make 20,000 jobs (20,000 frame chunks x 1 variation); one render "
        "makes at most 10,000; split it into several renders")
    assert _render(tmp_path, cluster, capsys, extra=["--frames", "1-2000", "--variations", "6"]) == (
        "nuke-comfyui render: this render would make 12,000 jobs (2,000 frame chunks x 6 variations); one render "
        "makes at most 10,000; split it into several renders")
    assert _render(tmp_path, cluster, capsys, extra=["--variations", "10001"]) == (
        "nuke-comfyui render: this render would make 10,001 jobs (10,001 variations); one render makes at most "
        "10,000; split it into several renders")


def test_shared_transfer_with_a_missing_dir_local(sim_cluster: Any, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    missing = tmp_path / "not-mounted" / "comfy"
    config = _config(tmp_path, cluster, transfer="shared", dir_local=str(missing), dir_remote="/srv/comfy")
    pattern = _plates(tmp_path / "plates", range(1, 3))
    assert _render(tmp_path, cluster, capsys, workflow=EXAMPLES / "img2img.json", config=config,
                   extra=["--input", pattern, "--frames", "1-2"]) == (
        f"nuke-comfyui render: server 'sim0': dir_local '{missing}' does not exist (transfer 'shared' works in "
        "the server's ComfyUI folder seen from here); mount the share (or correct dir_local), or switch the "
        "server to transfer 'upload'")
    assert not (tmp_path / "not-mounted").exists()  # no folder tree made up on the local disk
    assert not (tmp_path / "out").exists()


def test_shared_transfer_with_a_dir_local_that_is_not_comfyui(sim_cluster: Any, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    empty = tmp_path / "empty-share"
    empty.mkdir()
    config = _config(tmp_path, cluster, transfer="shared", dir_local=str(empty), dir_remote="/srv/comfy")
    pattern = _plates(tmp_path / "plates", range(1, 2))
    assert _render(tmp_path, cluster, capsys, workflow=EXAMPLES / "img2img.json", config=config,
                   extra=["--input", pattern, "--frames", "1"]) == (
        f"nuke-comfyui render: server 'sim0': dir_local '{empty}' has no input folder ({empty}/input does not "
        "exist), so it is not the server's ComfyUI folder; mount the share (or correct dir_local), or switch "
        "the server to transfer 'upload'")
    assert list(empty.iterdir()) == []


def test_an_invalid_request_never_starts_the_farm(sim_cluster: Any, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    assert _render(tmp_path, cluster, capsys, extra=["--variations", "0"]) == (
        "nuke-comfyui render: variations must be between 1 and 8388608, not 0")
