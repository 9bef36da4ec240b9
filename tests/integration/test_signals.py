"""Ctrl-C twice (as artists press it, and as `timeout -s INT` sends it) leaves a cancelled, consistent group.

Reproduces issue 25: a double Ctrl-C left the group `orphaned` in the journal and, in 2 of 7 tries,
raised `JournalError: cannot start a transaction within a transaction`. The render runs in a real
child process against the simulator (which runs here, so its answers can be slowed down while the
child cancels); the signals are real SIGINTs.
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

pytestmark = [pytest.mark.integration, pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]

ROOT = Path(__file__).resolve().parents[2]


def _start(sim_cluster: Any, tmp_path: Path) -> List[Any]:
    cluster = sim_cluster(2, seconds_per_step=0.25)  # about 1 s a job
    settings = tmp_path / "servers.json"
    settings.write_text(json.dumps({"poll_interval": 0.2, "servers": [
        {"name": f"sim{i}", "url": url} for i, url in enumerate(cluster.urls)]}))
    argv = [sys.executable, "-m", "nuke_comfyui", "render", str(ROOT / "examples" / "txt2img_variations.json"),
            "--output", str(tmp_path / "out"), "--variations", "12", "--base-seed", "5", "--config", str(settings),
            "--journal", str(tmp_path / "journal.sqlite3")]
    env = dict(os.environ, NUKE_COMFYUI_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    child = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return [cluster, child]


def _wait_for_a_finished_job(tmp_path: Path, child: subprocess.Popen, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()
        if (tmp_path / "journal.sqlite3").exists():
            with Journal(tmp_path / "journal.sqlite3") as journal:
                for group in journal.groups():
                    if any(job.state == "completed" for job in journal.jobs(group.id)):
                        return group.id
        time.sleep(0.05)
    raise AssertionError("the render did not finish a job in time")


def _check_cancelled_and_consistent(tmp_path: Path, gid: str, child: subprocess.Popen, err: str,
                                    capsys: pytest.CaptureFixture) -> None:
    assert child.returncode == 130, err
    assert "Traceback" not in err and "JournalError" not in err and "transaction" not in err, err
    with Journal(tmp_path / "journal.sqlite3") as journal:
        assert journal.group(gid).state in ("cancelled", "partial"), journal.group(gid).state
        states = {job.state for job in journal.jobs(gid)}
    assert states <= {"completed", "cancelled"}, states  # nothing left queued, dispatched or running
    assert main(["groups", "--journal", str(tmp_path / "journal.sqlite3"), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["state"] != "orphaned" and row.get("owner") in (None, ""), row


def test_two_signals_at_once_count_as_one_press_and_cancel_cleanly(sim_cluster, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    """`timeout -s INT` signals the process and then its process group: two SIGINTs microseconds apart."""
    cluster, child = _start(sim_cluster, tmp_path)
    try:
        gid = _wait_for_a_finished_job(tmp_path, child)
        child.send_signal(signal.SIGINT)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert "cancelling group" in err and "cancelled group" in err  # it waited for the servers' answers
    assert "stopped waiting" not in err
    _check_cancelled_and_consistent(tmp_path, gid, child, err, capsys)
    assert "cancelled" in out and "re-run the" in out
    import requests

    for url in cluster.urls:  # our queued prompts were deleted on every server
        assert requests.get(f"{url}/queue", timeout=5).json()["queue_pending"] == []


def test_a_second_ctrl_c_stops_waiting_for_slow_servers_after_the_journal_has_the_cancel(
        sim_cluster, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from nuke_comfyui.sim.faults import HttpFaults

    cluster, child = _start(sim_cluster, tmp_path)
    try:
        gid = _wait_for_a_finished_job(tmp_path, child)
        for server in cluster.servers:  # every answer now crawls: the cancel's server calls take long
            server.options.faults = HttpFaults(trickle_s=0.2)
        child.send_signal(signal.SIGINT)
        time.sleep(0.6)  # a second press, as a person makes it
        child.send_signal(signal.SIGINT)
        _out, err = child.communicate(timeout=60)
    finally:
        for server in cluster.servers:
            server.options.faults = None
        if child.poll() is None:
            child.kill()
    assert "stopped waiting for the servers" in err, err
    _check_cancelled_and_consistent(tmp_path, gid, child, err, capsys)
