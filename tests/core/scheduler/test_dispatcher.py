"""Dispatch decisions in isolation: room, ordering, constrained retries, no scans."""

from __future__ import annotations

from pathlib import Path

from scheduler_fakes import FakePool, FakeServer, Placement, fake_plan, frames

from nuke_comfyui.core.scheduler.dispatcher import Dispatcher
from nuke_comfyui.core.scheduler.group import Group
from nuke_comfyui.core.scheduler.jobs import Job, JobState


def _setup(tmp_path: Path, n: int, *servers: FakeServer):
    pool = FakePool(list(servers))
    dispatcher = Dispatcher(pool, Placement)
    group = Group("g" * 32, label="x", output_dir=str(tmp_path), plan=fake_plan(tmp_path, frames(n)))
    for i in range(n):
        group.add(Job(group, i, frame=i, variation=0, seed=i))
    dispatcher.add_group(group)
    for job in group.jobs:
        dispatcher.enqueue(job)
    return pool, dispatcher, group


def _dispatch(placed):
    for job, server in placed:
        job.move(JobState.DISPATCHED)
        job.server = server


def test_fills_room_then_stops(tmp_path: Path) -> None:
    a, b = FakeServer("a"), FakeServer("b")
    b.config.max_concurrent = 2
    pool, dispatcher, _ = _setup(tmp_path, 100, a, b)
    placed, impossible = dispatcher.pick()
    _dispatch(placed)
    assert not impossible
    assert [s for _, s in placed].count("a") == 2 and [s for _, s in placed].count("b") == 3
    assert [job.index for job, _ in placed] == [0, 1, 2, 3, 4]  # in order
    calls = pool.choose_calls
    assert dispatcher.pick() == ([], [])
    assert pool.choose_calls == calls + 1  # the head answers for the whole group: no scan
    dispatcher.release("a")
    placed, _ = dispatcher.pick()
    assert [(job.index, s) for job, s in placed] == [(5, "a")]
    for s in (a, b):
        s.close()


def test_constrained_job_skips_excluded_server(tmp_path: Path) -> None:
    a, b = FakeServer("a"), FakeServer("b")
    _, dispatcher, group = _setup(tmp_path, 1, a, b)
    job = group.jobs[0]
    group.ready.clear()
    job.add_exclusion("a")
    dispatcher.enqueue(job, front=True)
    assert job in group.constrained
    placed, _ = dispatcher.pick()
    assert placed == [(job, "b")]
    for s in (a, b):
        s.close()


def test_vram_floor_nobody_meets_is_impossible(tmp_path: Path) -> None:
    a = FakeServer("a", vram=8)
    _, dispatcher, group = _setup(tmp_path, 1, a)
    job = group.jobs[0]
    group.ready.clear()
    job.min_vram = 9
    dispatcher.enqueue(job)
    placed, impossible = dispatcher.pick()
    assert placed == [] and impossible and impossible[0][0] is job
    a.close()


def test_exclusions_covering_every_server_are_lifted(tmp_path: Path) -> None:
    a = FakeServer("a")
    _, dispatcher, group = _setup(tmp_path, 1, a)
    job = group.jobs[0]
    group.ready.clear()
    job.add_exclusion("a")
    dispatcher.enqueue(job)
    placed, impossible = dispatcher.pick()
    assert placed == [(job, "a")] and not impossible and job.exclude is None
    a.close()


def test_server_subset_excludes_the_others(tmp_path: Path) -> None:
    a, b = FakeServer("a"), FakeServer("b")
    _, dispatcher, group = _setup(tmp_path, 4, a, b)
    group.plan.servers = ["b"]
    placed, _ = dispatcher.pick()
    assert {s for _, s in placed} == {"b"}
    for s in (a, b):
        s.close()


def test_cancelled_group_is_skipped(tmp_path: Path) -> None:
    a = FakeServer("a")
    _, dispatcher, group = _setup(tmp_path, 3, a)
    group.cancel_requested = True
    assert dispatcher.pick() == ([], [])
    a.close()


def test_a_job_excluded_from_every_server_of_its_subset_gets_them_back(tmp_path: Path) -> None:
    """`render --servers a` with b configured too: once `a` failed the job, `a` is its only server.

    Before, the job's exclusion {a} plus the subset's {b} left nothing, the pool answered "wait"
    and the render never ended (issue 28, item 1); now the exclusion is lifted as it is without
    a subset, and the retry budget decides when the job fails.
    """
    a, b = FakeServer("a"), FakeServer("b")
    _, dispatcher, group = _setup(tmp_path, 1, a, b)
    group.plan.servers = ["a"]
    job = group.jobs[0]
    group.ready.clear()
    job.add_exclusion("a")
    dispatcher.enqueue(job)
    placed, impossible = dispatcher.pick()
    assert not impossible
    assert placed == [(job, "a")] and job.exclude is None
    for s in (a, b):
        s.close()


def test_running_stamps_follow_our_prompts_and_never_outlive_them(tmp_path: Path) -> None:
    """What fastest reads as `running_s`: our oldest running prompt per server, gone when released."""
    a = FakeServer("a")
    b = FakeServer("b")
    b.config.max_concurrent = 2
    _, dispatcher, _ = _setup(tmp_path, 10, a, b)
    _dispatch(dispatcher.pick()[0])
    dispatcher.started("b", "p1", 100.0)
    dispatcher.started("b", "p2", 101.0)
    dispatcher.started("a", "p3", 102.5)
    assert dispatcher.running_s(103.0) == {"a": 0.5, "b": 3.0}
    dispatcher.release("b", "p1")
    assert dispatcher.running_s(103.0) == {"a": 0.5, "b": 2.0}  # the oldest left
    dispatcher.rekey("a", "p3", "theirs")  # a server before 0.3.45 named the prompt
    dispatcher.release("a", "theirs")
    assert "a" not in dispatcher.running_s(103.0)
    assert dispatcher.in_flight == {"a": 1, "b": 2}
    dispatcher.release("b")  # without a prompt id (a zombie's slot, say): the stamp stays ...
    assert dispatcher.running_s(103.0) == {"b": 2.0}
    dispatcher.release("b")  # ... until nothing of ours is left there
    assert dispatcher.running_since == {}
    for s in (a, b):
        s.close()
