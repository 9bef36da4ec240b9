"""A hung server on the simulator: the render ends long before the job timeout (issue 28, item 5).

sim0 hangs on every prompt after its second (`hang_after=2`: executing, then silence, until an
interrupt). Before, the render waited the whole job timeout for sim0's prompts; now they move to
the idle servers once they have been silent several times longer than the others take, sim0's
prompts are interrupted by id, and every variation lands once. The server is reported as stalled:
on its pool status (what the Server Status panel and `status` show) and in the CLI's summary.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.pool import ServerPool
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.scheduler import GroupState, Scheduler

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_a_hung_server_does_not_hold_the_render_for_the_timeout(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(3, hang_after=[2, None, None])
    config = ClusterConfig(servers=[ServerConfig(name=f"sim{i}", url=url) for i, url in enumerate(cluster.urls)],
                           job_timeout=60, poll_interval=0.2, strategy="round-robin")
    pool = ServerPool(config)
    journal = Journal(tmp_path / "j.sqlite3")
    farm = Farm(pool, journal, Scheduler(pool, journal, poll_interval=0.1, stall_min_s=1.0)).start()
    try:
        started = time.monotonic()
        gid = farm.scheduler.submit(RenderRequest(
            workflow_path=str(ROOT / "examples" / "txt2img_variations.json"), output_dir=str(tmp_path / "out"),
            variations=12, seed_strategy="sequential", base_seed=1, label="shot"))
        snap = farm.scheduler.wait(gid, timeout=50)
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(e.status == "interrupted" for e in cluster.servers[0].executions):
            time.sleep(0.05)  # the cancel by id runs on the worker pool
    finally:
        farm.stop()
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs]
    assert elapsed < 20.0, f"{elapsed:.1f} s: held for the 60 s job timeout"
    assert farm.scheduler.stalls.stalled.get("sim0", 0) >= 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not pool.status("sim0").stalled:
        time.sleep(0.05)  # the note reaches the pool from the scheduler's worker pool
    assert str(pool.status("sim0").stalled).startswith("stalled: no progress for ")
    assert pool.status("sim0").state_text == "stalled" and pool.status("sim1").stalled is None
    files = sorted(p.name for p in (tmp_path / "out").rglob("*.png"))
    assert len(files) == 12 == len(set(files))
    assert any(e.status == "interrupted" for e in cluster.servers[0].executions)  # cancelled there
    assert sum(e.status == "success" for s in cluster.servers for e in s.executions) == 12  # each rendered once


def test_the_render_summary_names_the_stalled_server(sim_cluster: Any, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end through `nuke-comfyui render`: the summary says which server stalled, for how long,
    and what went elsewhere, beside the servers that were down; the exit code is 0 (all rendered)."""
    monkeypatch.setattr("nuke_comfyui.core.scheduler.scheduler.STALL_MIN_S", 1.0)  # the floor, not 15 s
    cluster = sim_cluster(3, hang_after=[0, None, None])  # sim0 hangs on every prompt, its first included
    settings = tmp_path / "servers.json"
    servers = [{"name": f"sim{i}", "url": url} for i, url in enumerate(cluster.urls)]
    settings.write_text(json.dumps({"poll_interval": 0.2, "strategy": "round-robin", "job_timeout": 60,
                                    "servers": servers}))
    code = main(["render", str(ROOT / "examples" / "txt2img_variations.json"), "--output", str(tmp_path / "out"),
                 "--variations", "6", "--seed-strategy", "sequential", "--base-seed", "1", "--config", str(settings),
                 "--journal", str(tmp_path / "journal.sqlite3")])
    out = capsys.readouterr().out
    assert code == 0, out
    [line] = [line for line in out.splitlines() if "stalled" in line]
    assert re.fullmatch(r"  server sim0 stalled \(no progress for \d+ s on our prompt\); (1 variation|\d+ variations) "
                        r"re-queued elsewhere \(var0\d(, var0\d)*\)", line), line
    assert len(list((tmp_path / "out").rglob("*.png"))) == 6
