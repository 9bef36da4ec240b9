"""No silent hangs and a fair share between artists, on the simulator (127.0.0.1).

Real-server behaviour reproduced: a workflow using a node class no server has never ended (its
node lists were not fetched at submit time and the dispatcher then waited forever); with every
server dead `render` waited silently forever; two artists' renders on the same servers split
30 to 0 then 0 to 30 (the first refilled its slot on every completion event).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, List, Optional

import pytest

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.errors import NoCapableServer
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.pool import ServerPool
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.scheduler import GroupSnapshot, GroupState, Scheduler

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _farm(urls: List[str], tmp_path: Path, name: str, *, no_server_wait: Optional[float] = None,
          poll: float = 0.2) -> Farm:
    servers = [ServerConfig(name=f"sim{i}", url=url) for i, url in enumerate(urls)]
    config = ClusterConfig(servers=servers, job_timeout=30, poll_interval=poll)
    pool = ServerPool(config)
    journal = Journal(tmp_path / f"{name}.sqlite3")
    scheduler = Scheduler(pool, journal, poll_interval=0.1, no_server_wait=no_server_wait)
    return Farm(pool, journal, scheduler).start()


def _seed_request(tmp_path: Path, variations: int, label: str) -> RenderRequest:
    return RenderRequest(workflow_path=str(ROOT / "examples" / "txt2img_variations.json"),
                         output_dir=str(tmp_path / label), variations=variations, seed_strategy="sequential",
                         base_seed=1, label=label)


def test_a_missing_node_class_fails_at_submit_naming_it_per_server(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(2, missing_nodes="KSamplerAdvanced")
    farm = _farm(cluster.urls, tmp_path, "j")  # submitted at once: the node lists are not read yet
    try:
        started = time.monotonic()
        with pytest.raises(NoCapableServer) as caught:
            farm.scheduler.submit(_seed_request(tmp_path, 2, "shot"))
        assert time.monotonic() - started < 10.0
    finally:
        farm.stop()
    message = str(caught.value)
    assert "sim0 lacks KSamplerAdvanced" in message and "sim1 lacks KSamplerAdvanced" in message, message


def test_no_usable_server_ends_failed_with_the_reason(sim_cluster, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    cluster = sim_cluster(2)
    urls = list(cluster.urls)
    for server in cluster.servers:
        server.stop()  # both refuse connections
    farm = _farm(urls, tmp_path, "j", no_server_wait=1.5)
    try:
        with caplog.at_level("WARNING"):
            gid = farm.scheduler.submit(_seed_request(tmp_path, 3, "shot"))
            snap = farm.scheduler.wait(gid, timeout=20)
    finally:
        farm.stop()
    assert snap.state is GroupState.FAILED
    assert all(job.error and "no server could take it for 2 s" in job.error for job in snap.jobs), \
        [job.error for job in snap.jobs]
    assert "sim0 offline" in (snap.jobs[0].error or "")
    waits = [r.getMessage() for r in caplog.records if "waits:" in r.getMessage()]
    assert len(waits) == 1, waits  # said why, once
    repeated = [r.getMessage() for r in caplog.records if "no server could take it" in r.getMessage()]
    assert repeated == [], repeated  # the failure itself is the jobs' to say, not a second log line


def _completion_times(snap: GroupSnapshot) -> List[float]:
    return sorted(a.ended for job in snap.jobs for a in job.attempt_log
                  if a.outcome == "completed" and a.ended is not None)


def test_two_artists_on_the_same_servers_get_about_half_each(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(3, seconds_per_step=0.04)  # about 0.16 s a job
    # The pools poll every 2 s (the default): each client hears of its own completions at once
    # (events) but of the other's only at its next poll, which is what starved the second one.
    farms = [_farm(cluster.urls, tmp_path, f"artist{i}", poll=2.0) for i in range(2)]
    try:
        for farm in farms:  # both farms know the servers before either submits
            deadline = time.monotonic() + 10
            while not any(s.state.usable for s in farm.pool.statuses()) and time.monotonic() < deadline:
                time.sleep(0.05)
        gids: List[str] = [""] * 2
        snaps: List[Any] = [None] * 2
        started: List[float] = [0.0, 0.0]

        def run(i: int) -> None:
            started[i] = time.time()
            gids[i] = farms[i].scheduler.submit(_seed_request(tmp_path, 40, f"a{i}"))
            snaps[i] = farms[i].scheduler.wait(gids[i], timeout=60)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        threads[0].start()
        time.sleep(0.8)  # the first artist already fills every server when the second one starts
        threads[1].start()
        for t in threads:
            t.join(90)
    finally:
        for farm in farms:
            farm.stop()
    assert all(s is not None and s.state is GroupState.COMPLETED for s in snaps)
    times = [_completion_times(s) for s in snaps]
    both_active_until = min(t[-1] for t in times)
    both_active_from = times[1][0]  # from the second artist's first frame: both are rendering
    counts = [sum(1 for x in t if both_active_from <= x <= both_active_until) for t in times]
    share = counts[0] / max(1, sum(counts))
    print(f"two-client split while both active: {counts[0]} to {counts[1]} ({share * 100:.0f}% / "
          f"{(1 - share) * 100:.0f}%)")
    assert sum(counts) >= 30
    assert 0.40 <= share <= 0.60, counts
