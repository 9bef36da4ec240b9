"""Two processes, one group: ownership, cancel from a second shell, resume of a dead owner's group.

Reproduces what a user saw against two real ComfyUI 0.8 servers: `cancel GROUP` from a second
shell printed "cancelled" while the render went on to finish (the owner took the interrupts for
somebody else's and resubmitted), and `resume GROUP` beside a live render rendered frames twice.
The render runs in a real child process (`python -m nuke_comfyui render`) against the simulator.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List

import pytest

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.journal import Journal

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _setup(sim_cluster: Any, tmp_path: Path, frames: int) -> List[str]:
    from PIL import Image

    cluster = sim_cluster(2, seconds_per_step=0.25)  # 4 steps: about 1 s a frame
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"poll_interval": 0.2, "servers": [
        {"name": f"sim{i}", "url": url} for i, url in enumerate(cluster.urls)]}))
    plates = tmp_path / "plates"
    plates.mkdir()
    for f in range(1, frames + 1):
        Image.new("RGB", (16, 16), (f * 10, 0, 0)).save(plates / f"plate.{f:04d}.png")
    common = ["--config", str(config), "--journal", str(tmp_path / "journal.sqlite3")]
    render = [sys.executable, "-m", "nuke_comfyui", "render", str(ROOT / "examples" / "img2img.json"),
              "--output", str(tmp_path / "out"), "--input", str(plates / "plate.####.png"),
              "--frames", f"1-{frames}", *common]
    return [cluster, common, render]  # type: ignore[list-item]


def _start(render: List[str], tmp_path: Path) -> subprocess.Popen:
    env = dict(os.environ, NUKE_COMFYUI_DATA_DIR=str(tmp_path / "data"))
    return subprocess.Popen(render, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _first_completed(tmp_path: Path, child: subprocess.Popen, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()
        if (tmp_path / "journal.sqlite3").exists():
            with Journal(tmp_path / "journal.sqlite3") as journal:
                for group in journal.groups():
                    if any(job.state == "completed" for job in journal.jobs(group.id)):
                        return group.id
        time.sleep(0.05)
    raise AssertionError("the child render did not complete a frame in time")


def _prompts(cluster: Any) -> int:
    return sum(server.prompt_count for server in cluster.servers)


def test_cancel_from_a_second_process_stops_the_render(sim_cluster, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    cluster, common, render = _setup(sim_cluster, tmp_path, frames=24)
    child = _start(render, tmp_path)
    try:
        gid = _first_completed(tmp_path, child)
        # A second process may not render the same group beside a live owner.
        assert main(["resume", gid[:8], *common]) == 1
        refused = capsys.readouterr().err
        assert f"pid {child.pid}" in refused and "--force" in refused, refused
        assert main(["groups", "--journal", common[3], "--json"]) == 0
        row = json.loads(capsys.readouterr().out)[0]
        assert row["state"] == "running" and row["owner"].startswith(f"pid {child.pid} ")

        assert main(["cancel", gid[:8], "--json", *common]) == 0
        report = json.loads(capsys.readouterr().out)
        at_cancel = _prompts(cluster)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
    assert report["state"] == "cancelled" and report["confirmed"] is True, report
    assert report["owner"].startswith(f"pid {child.pid} ")
    assert "cancelled" in out
    with Journal(tmp_path / "journal.sqlite3") as journal:
        finished = sum(1 for job in journal.jobs(gid) if job.state == "completed")
    # cancelled after some frames: 2, some rendered (never 0: not everything); 1 only if none had finished
    assert child.returncode == (2 if finished else 1), (out, err)
    assert _prompts(cluster) <= at_cancel + 2  # nothing resubmitted after the cancel (one POST may be in flight)
    with Journal(tmp_path / "journal.sqlite3") as journal:
        assert journal.group(gid).state == "cancelled"
        done = [job for job in journal.jobs(gid) if job.state == "completed"]
    assert 1 <= len(done) < 20

    # A cancelled group is not a dead end: retry finishes it, nothing rendered twice.
    for server in cluster.servers:
        server.options.seconds_per_step = 0.002  # the rest renders fast
    assert main(["retry", gid[:8], "--json", *common]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["state"] == "completed" and summary["done"] == 24
    assert sorted(f for s in summary["sequences"] for f in s["frames_done"]) == list(range(1, 25))
    print(f"cancel report: {report}; prompts at cancel {at_cancel}, after retry {_prompts(cluster)}")


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9")
def test_dead_owner_is_orphaned_and_resume_takes_over(sim_cluster, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    cluster, common, render = _setup(sim_cluster, tmp_path, frames=10)
    child = _start(render, tmp_path)
    try:
        gid = _first_completed(tmp_path, child)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert main(["groups", "--journal", common[3]]) == 0
    listing = capsys.readouterr().out
    assert f"{gid[:8]}   orphaned" in listing, listing
    for server in cluster.servers:
        server.options.seconds_per_step = 0.002  # the rest renders fast
    assert main(["resume", gid[:8], "--json", *common]) == 0  # no --force needed: its owner died
    summary = json.loads(capsys.readouterr().out)
    assert summary["state"] == "completed"
    assert sorted(f for s in summary["sequences"] for f in s["frames_done"]) == list(range(1, 11))
    assert _prompts(cluster) <= 10 + 2  # at most the prompts in flight at the kill were lost and redone
