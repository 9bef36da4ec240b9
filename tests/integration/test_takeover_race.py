"""Exactly once, even when asked to hurry (issue 28, item 10): two processes, one group, at once.

Before: two `resume --force` of one group started together rendered 6 frames twice (each read the
journal, claimed the group, and dispatched before noticing the other); two farm tasks given the
same `--group-id` rendered 200 prompts for 100 frames (their journals are private, so nothing
stopped the second). Now a take-over is atomic (a journal write of a group another process owns
is refused in its transaction, so the loser sends nothing it had not journaled before the claim),
and a farm task holds an OS lock in the group folder while it runs. Real child processes
(`python -m nuke_comfyui`) against the simulator on 127.0.0.1.
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

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(sys.platform == "win32", reason="kill -9 and POSIX record locks")]
ROOT = Path(__file__).resolve().parents[2]
FRAMES = 10


def _farm(sim_cluster: Any, tmp_path: Path) -> Any:
    from PIL import Image

    cluster = sim_cluster(2, seconds_per_step=0.2)  # 4 steps: about 0.8 s a frame
    (tmp_path / "servers.json").write_text(json.dumps({"poll_interval": 0.2, "servers": [
        {"name": f"sim{i}", "url": url} for i, url in enumerate(cluster.urls)]}))
    plates = tmp_path / "plates"
    plates.mkdir()
    for f in range(1, FRAMES + 1):
        Image.new("RGB", (16, 16), (f * 10, 0, 0)).save(plates / f"plate.{f:04d}.png")
    return cluster


def _cli(tmp_path: Path, *args: str) -> List[str]:
    return [sys.executable, "-m", "nuke_comfyui", *args, "--config", str(tmp_path / "servers.json")]


def _render_args(tmp_path: Path) -> List[str]:
    return ["render", str(ROOT / "examples" / "img2img.json"), "--output", str(tmp_path / "out"),
            "--input", str(tmp_path / "plates" / "plate.####.png"), "--frames", f"1-{FRAMES}"]


def _start(argv: List[str], tmp_path: Path) -> subprocess.Popen:
    env = dict(os.environ, NUKE_COMFYUI_DATA_DIR=str(tmp_path / "data"))
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _successes(cluster: Any) -> int:
    return sum(e.status == "success" for server in cluster.servers for e in server.executions)


def test_two_forced_resumes_at_once_render_every_frame_once(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = _farm(sim_cluster, tmp_path)
    journal = str(tmp_path / "journal.sqlite3")
    child = _start(_cli(tmp_path, *_render_args(tmp_path), "--journal", journal), tmp_path)
    try:
        deadline = time.monotonic() + 30
        gid = None
        while gid is None and time.monotonic() < deadline:
            if Path(journal).exists():
                with Journal(journal) as j:
                    gid = next((g.id for g in j.groups() if any(r.state == "completed" for r in j.jobs(g.id))),
                               None)
            time.sleep(0.05)
        assert gid is not None, "the first render completed no frame in time"
        os.kill(child.pid, signal.SIGKILL)  # an orphaned group with work left
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    resumes = [_start(_cli(tmp_path, "resume", gid, "--force", "--journal", journal), tmp_path) for _ in range(2)]
    results = [r.communicate(timeout=120) for r in resumes]
    codes = sorted(r.returncode for r in resumes)
    time.sleep(1.0)  # a prompt the killed render had in flight finishes on its server meanwhile
    assert _successes(cluster) == FRAMES, (codes, results)  # every frame rendered once, none twice
    assert codes == [0, 1], results
    loser = next(err for (_, err), r in zip(results, resumes) if r.returncode == 1)
    assert f"group {gid[:8]} was taken over by pid " in loser and "follow it there" in loser, loser
    with Journal(journal) as j:
        assert sorted(r.state for r in j.jobs(gid)) == ["completed"] * FRAMES


def test_a_second_farm_task_of_the_same_frames_is_refused_at_once(sim_cluster: Any, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    cluster = _farm(sim_cluster, tmp_path)
    group = "ab" * 16
    task = [*_render_args(tmp_path), "--group-id", group, "--task-frames", f"1-{FRAMES}"]
    first = _start(_cli(tmp_path, *task), tmp_path)
    try:
        deadline = time.monotonic() + 30
        while cluster.prompt_count == 0 and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        started = time.monotonic()
        assert main([*task, "--config", str(tmp_path / "servers.json")]) == 1
        assert time.monotonic() - started < 10.0
        err = capsys.readouterr().err
        _, first_err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert (f"group {group[:8]} (frames 1-{FRAMES}) is already being rendered by pid {first.pid} on ") in err, err
    assert first.returncode == 0, first_err
    assert _successes(cluster) == FRAMES
