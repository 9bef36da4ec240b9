"""Coalesced wake-ups lose nothing: events that land during a pass get a pass, and every job is dispatched."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

from scheduler_fakes import FakeServer, fake_plan, frames

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.pool import Placement, ServerPool
from nuke_comfyui.core.scheduler import GroupState
from nuke_comfyui.core.scheduler.dispatcher import Dispatcher
from nuke_comfyui.core.scheduler.group import Group
from nuke_comfyui.core.scheduler.jobs import Job, JobState


def test_events_during_slow_passes_coalesce_and_every_job_completes(make_harness, tmp_path: Path) -> None:
    servers = [FakeServer(f"s{i}", duration=0.002) for i in range(3)]
    h = make_harness(*servers)
    loop, tracking = h.scheduler.loop, h.scheduler.tracking
    passes: List[int] = []
    events: List[int] = []
    real_tick, real_event = loop._tick, tracking.on_stream_event

    def slow_tick() -> None:
        passes.append(1)
        time.sleep(0.01)  # events pile up meanwhile: the next pass must serve them all
        real_tick()

    def counted(server: str, event: Any, heard: Any = None) -> None:
        events.append(1)
        real_event(server, event, heard)

    loop._tick = slow_tick  # type: ignore[method-assign]
    tracking.on_stream_event = counted  # type: ignore[method-assign]
    group_id = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(60)))
    snapshot = h.scheduler.wait(group_id, timeout=60)
    assert snapshot.state is GroupState.COMPLETED and snapshot.done == 60
    assert sum(len(s.submitted) for s in servers) == 60  # each job sent once
    assert len(passes) < len(events)  # one pass served several events
    for server in servers:
        server.close()


def test_a_wake_up_during_a_pass_is_not_lost(make_harness, tmp_path: Path) -> None:
    """The wake event is cleared before a pass reads the state, so a change made mid-pass gets a pass."""
    server = FakeServer("a", duration=0.001)
    h = make_harness(server)
    loop = h.scheduler.loop
    inside = threading.Event()
    release = threading.Event()
    real_tick = loop._tick
    first = [True]

    def held_tick() -> None:
        if first[0]:
            first[0] = False
            inside.set()
            release.wait(5)
        real_tick()

    loop._tick = held_tick  # type: ignore[method-assign]
    h.scheduler.state.wake.set()
    assert inside.wait(5)
    group_id = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(3)))  # lands during that pass
    release.set()
    snapshot = h.scheduler.wait(group_id, timeout=30)
    assert snapshot.state is GroupState.COMPLETED and snapshot.done == 3
    server.close()


class _ProbeClient:
    def __init__(self, server: ServerConfig) -> None:
        self.server = server

    def queue(self) -> Any:
        return type("Q", (), {"running": [], "pending": []})()

    def system_stats(self) -> Any:
        return type("S", (), {"comfyui_version": "0.8.0", "devices": [], "cpu_only": False})()

    def object_info(self) -> Dict[str, Any]:
        return {"KSampler": {}, "SaveImage": {}}

    def close(self) -> None:
        pass


def test_the_indexed_dispatcher_places_every_job_once_within_each_servers_room(tmp_path: Path) -> None:
    """With a real ServerPool (the LoadIndex path): random completions, every strategy, 100 servers."""
    configs = [ServerConfig(name=f"s{i:03d}", port=9000 + i, max_concurrent=1 + i % 2) for i in range(100)]
    for strategy in ("fastest", "round-robin", "least-loaded", "priority"):
        rng = random.Random(strategy)
        pool = ServerPool(ClusterConfig(servers=configs, strategy=strategy), client_factory=_ProbeClient)
        pool.refresh()
        dispatcher = Dispatcher(pool, Placement)
        plan = fake_plan(tmp_path, frames(1500))
        group = Group("g" * 32, label="x", output_dir=str(tmp_path), plan=plan)
        for i in range(1500):
            group.add(Job(group, i, frame=i, variation=0, seed=i))
        dispatcher.add_group(group)
        for job in group.jobs:
            dispatcher.enqueue(job)
        room = {c.name: c.max_concurrent + 1 for c in configs}
        running: List[Job] = []
        placed_ids: List[int] = []
        while len(placed_ids) < 1500:
            placed, impossible = dispatcher.pick()
            assert not impossible
            for job, server in placed:
                job.move(JobState.DISPATCHED)
                job.server = server
                running.append(job)
                placed_ids.append(job.index)
            counts: Dict[str, int] = {}
            for job in running:
                counts[job.server or ""] = counts.get(job.server or "", 0) + 1
            assert all(counts[name] <= room[name] for name in counts), strategy
            assert running, f"{strategy}: nothing running and jobs left: a lost dispatch"
            for _ in range(rng.randint(1, 5)):  # a few completions land before the next pass
                if running:
                    job = running.pop(rng.randrange(len(running)))
                    pool.record_duration(job.server or "", "k", rng.uniform(0.5, 2.0))
                    job.move(JobState.COMPLETED)
                    dispatcher.release(job.server or "")
        assert sorted(placed_ids) == list(range(1500)), strategy
        if strategy == "round-robin":
            assert len({job.server for job in group.jobs}) == 100  # in turn: every server got work
        pool.stop()
