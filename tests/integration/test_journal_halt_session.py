"""A halted journal in a long-lived session (issue 28, item 2, as Nuke lives it): said, then lifted.

The command line ends a halted render with one line and `resume` in a new process. A Nuke session
outlives the render, so the halt travels with the group — `halted` on its progress events, view and
snapshot, which the node's status and the Job Results panel show — and Retry lifts it in the same
process once the journal can be written again: what waited is written, the rest is sent, nothing
twice. The disk fills as sqlite sees it (`PRAGMA max_page_count` on the journal's one connection:
SQLITE_FULL, "database or disk is full"); "still not writable" is `PRAGMA query_only` (every write
refused, like a folder made read-only).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, List

import pytest

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.errors import JournalError
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.pool import ServerPool
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.scheduler import GroupState, GroupUpdated, Scheduler

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VARIATIONS = 30


def pragma(journal: Journal, statement: str) -> None:
    with journal._lock:
        journal._conn().execute(statement)


def fill_the_disk(journal: Journal) -> None:
    with journal._lock:
        pages = journal._conn().execute("PRAGMA page_count").fetchone()[0]
    pragma(journal, f"PRAGMA max_page_count = {pages + 1}")


def until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        time.sleep(0.05)


def test_the_halt_travels_with_the_group_and_retry_lifts_it_in_the_same_process(sim_cluster: Any,
                                                                                 tmp_path: Path) -> None:
    cluster = sim_cluster(2, seconds_per_step=0.002)
    config = ClusterConfig(servers=[ServerConfig(name=f"sim{i}", url=url) for i, url in enumerate(cluster.urls)],
                           poll_interval=0.2)
    pool = ServerPool(config)
    path = tmp_path / "data" / "journal.sqlite3"
    path.parent.mkdir()
    journal = Journal(path)
    scheduler = Scheduler(pool, journal, poll_interval=0.1)
    farm = Farm(pool, journal, scheduler).start()
    heard: List[Any] = []
    scheduler.subscribe(lambda event: heard.append(event.group) if isinstance(event, GroupUpdated) else None)
    try:
        gid = scheduler.submit(RenderRequest(
            workflow_path=str(EXAMPLES / "txt2img_variations.json"), output_dir=str(tmp_path / "out"),
            variations=VARIATIONS, seed_strategy="sequential", base_seed=1, label="shot"))
        fill_the_disk(journal)
        until(lambda: scheduler.halted is not None and scheduler.settled(gid), 30, "the render halts")
        notice = (f"the job journal {path} cannot be written (database or disk is full), so no new work was sent; "
                  f"free space in {path.parent} (or make it writable)")
        snapshot, view, progress = scheduler.snapshot(gid), scheduler.view(gid), scheduler.summary(gid)
        assert snapshot.halted == view.halted == progress.halted == notice
        assert snapshot.state is GroupState.RUNNING and snapshot.done < VARIATIONS  # work left, none sent
        scheduler.drain_events()
        assert any(group.halted == notice for group in heard)  # a node or panel hears it without asking
        assert scheduler.halt_message(gid) == f"{notice}, then run `nuke-comfyui resume {gid[:8]}` to finish the render"
        sent = sum(len(server.executions) for server in cluster.servers)

        pragma(journal, "PRAGMA query_only = ON")  # Retry before anything was freed: said again, nothing sent
        with pytest.raises(JournalError) as still:
            scheduler.retry_failed(gid)
        assert str(still.value).startswith(f"the job journal {path} cannot be written (") and \
            str(still.value).endswith(f"so no new work was sent; free space in {path.parent} (or make it writable)")
        assert scheduler.snapshot(gid).halted == str(still.value)  # the group says the newest reason too
        time.sleep(0.5)
        assert sum(len(server.executions) for server in cluster.servers) == sent

        pragma(journal, "PRAGMA query_only = OFF")  # space again
        pragma(journal, "PRAGMA max_page_count = 1073741823")
        assert scheduler.retry_failed(gid) == 0  # nothing failed: the queued children are simply sent
        assert scheduler.halted is None
        final = scheduler.wait(gid, timeout=60)
    finally:
        farm.stop()
    assert final.state is GroupState.COMPLETED and final.halted is None
    assert sum(len(server.executions) for server in cluster.servers) == VARIATIONS  # nothing twice
    files = sorted(p.name for p in (tmp_path / "out").rglob("*.png"))
    assert len(files) == VARIATIONS == len(set(files))
    with Journal(path) as again:
        assert again.group(gid).state == "completed"  # the journal caught up: nothing for `resume` to do


def test_a_new_render_while_halted_says_so_instead_of_waiting_for_ever(sim_cluster: Any, tmp_path: Path) -> None:
    """Before: once halted, a session's next render was journaled but never dispatched (no starvation
    check either): Render showed `queued` for ever. Now submit tries the journal first."""
    cluster = sim_cluster(1, seconds_per_step=0.002)
    pool = ServerPool(ClusterConfig(servers=[ServerConfig(name="sim0", url=cluster.urls[0])], poll_interval=0.2))
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    scheduler = Scheduler(pool, journal, poll_interval=0.1)
    farm = Farm(pool, journal, scheduler).start()
    request = RenderRequest(workflow_path=str(EXAMPLES / "txt2img_variations.json"),
                            output_dir=str(tmp_path / "out"), variations=2, label="next")
    try:
        scheduler.halt.halt(JournalError("database or disk is full"))  # as the dispatch loop does
        pragma(journal, "PRAGMA query_only = ON")
        with pytest.raises(JournalError, match=r"cannot be written .* free space in"):
            scheduler.submit(request)
        pragma(journal, "PRAGMA query_only = OFF")
        gid = scheduler.submit(request)  # the journal takes writes again: lifted, and this one is sent
        assert scheduler.wait(gid, timeout=30).state is GroupState.COMPLETED
    finally:
        farm.stop()
