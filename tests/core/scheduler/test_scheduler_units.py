"""Scheduler behaviour against in-memory fake servers: dispatch, failures, cancel, journal."""

from __future__ import annotations

import os
from pathlib import Path

from scheduler_fakes import FakeServer, fake_plan, frames, wait_until

from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.scheduler import GroupState, JobSpec, JobState


def test_all_frames_complete_with_numbered_outputs(make_harness, tmp_path: Path) -> None:
    a, b = FakeServer("a"), FakeServer("b")
    h = make_harness(a, b)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(12)))
    snap = h.scheduler.wait(gid, timeout=20)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs]
    names = sorted(os.path.basename(j.outputs[0]) for j in snap.jobs)
    assert names == [f"shot_var01.{f:04d}.png" for f in range(1001, 1013)]
    assert all(f"shot_{gid[:8]}" in j.outputs[0] for j in snap.jobs)
    # Pull dispatch: never more than max_concurrent + 1 of ours on a server.
    assert a.max_seen <= 2 and b.max_seen <= 2
    assert len(a.submitted) + len(b.submitted) == 12
    assert snap.sequences[0].pattern.endswith("shot_var01.%04d.png")
    assert snap.sequences[0].frames_done == list(range(1001, 1013))
    rows = h.journal.jobs(gid)
    assert {r.state for r in rows} == {"completed"} and all(r.outputs for r in rows)
    assert h.journal.group(gid).state == "completed"
    assert h.pool.durations  # learned durations reach the pool


def test_prompt_id_is_journaled_before_the_post(make_harness, tmp_path: Path) -> None:
    a = FakeServer("a")
    seen = []
    reader = Journal(tmp_path / "journal.sqlite3")

    def check(prompt_id: str) -> None:
        rows = [r for g in reader.groups() for r in reader.jobs(g.id)]
        seen.append(any(r.prompt_id == prompt_id for r in rows))

    a.on_submit = check
    h = make_harness(a)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(3)))
    assert h.scheduler.wait(gid, timeout=10).state is GroupState.COMPLETED
    reader.close()
    assert seen == [True, True, True]


def test_validation_error_fails_without_retry(make_harness, tmp_path: Path) -> None:
    bad, good = FakeServer("bad", "invalid"), FakeServer("good")
    good.config.enabled = False
    h = make_harness(bad, good)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(2)))
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.FAILED
    assert all(j.attempts == 1 and "KSampler" in (j.error or "") for j in snap.jobs)


def test_execution_error_retries_elsewhere_and_siblings_survive(make_harness, tmp_path: Path) -> None:
    broken, fine = FakeServer("broken", "error"), FakeServer("fine")
    h = make_harness(broken, fine)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(6)))
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.COMPLETED
    retried = [j for j in snap.jobs if j.attempts > 1]
    assert retried and all(j.server == "fine" for j in retried)
    assert all(j.attempt_log[0].outcome == "failed" for j in retried)


def test_retries_are_bounded(make_harness, tmp_path: Path) -> None:
    h = make_harness(FakeServer("x", "error"), FakeServer("y", "error"), retries=1)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(1)))
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.FAILED
    assert snap.jobs[0].attempts == 2 and "boom" in (snap.jobs[0].error or "")


def test_out_of_memory_moves_to_bigger_gpu(make_harness, tmp_path: Path) -> None:
    small = FakeServer("small", "oom-small", vram=8)
    big = FakeServer("big", "oom-small", vram=24)
    h = make_harness(small, big)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(4)))
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.COMPLETED
    assert {j.server for j in snap.jobs} == {"big"}


def test_out_of_memory_without_bigger_gpu_fails(make_harness, tmp_path: Path) -> None:
    h = make_harness(FakeServer("only", "oom", vram=8))
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(1)))
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.FAILED
    assert "more VRAM" in (snap.jobs[0].error or "") and snap.jobs[0].attempts == 1


def test_lost_server_requeues_without_spending_retries(make_harness, tmp_path: Path) -> None:
    down, up = FakeServer("down", "down"), FakeServer("up")
    h = make_harness(down, up, retries=0)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(5)))
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.COMPLETED
    assert {j.server for j in snap.jobs} == {"up"}
    wait_until(lambda: "down" in h.pool.failures)


def test_timeout_interrupts_by_prompt_id_and_retries(make_harness, tmp_path: Path) -> None:
    stuck, ok = FakeServer("stuck", "hang"), FakeServer("ok", duration=0.05)
    h = make_harness(stuck, ok, job_timeout=0.3)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(3)))
    snap = h.scheduler.wait(gid, timeout=15)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs]
    timed_out = [j for j in snap.jobs if any(a.outcome == "timeout" for a in j.attempt_log)]
    assert timed_out
    assert all(a.prompt_id in stuck.interrupted for j in timed_out for a in j.attempt_log
               if a.outcome == "timeout")
    wait_until(lambda: not stuck.busy())


def test_dependencies_wait_and_block_on_failure(make_harness, tmp_path: Path) -> None:
    a = FakeServer("a")
    h = make_harness(a)
    specs = [*frames(3), JobSpec(3, None, 0, 7, depends_on=(0, 1, 2))]
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", specs))
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.COMPLETED
    order = [item["prompt_id"] for item in a.submitted]
    assert order[-1] == snap.jobs[3].prompt_id

    bad = FakeServer("bad", "invalid")
    h2 = make_harness(bad)
    gid2 = h2.scheduler.submit_plan(fake_plan(tmp_path / "out2", specs))
    snap2 = h2.scheduler.wait(gid2, timeout=10)
    combine = snap2.jobs[3]
    assert combine.state is JobState.BLOCKED and "depends on job" in (combine.error or "")
    assert snap2.state is GroupState.FAILED


def test_cancel_deletes_pending_and_interrupts_running(make_harness, tmp_path: Path) -> None:
    a = FakeServer("a", "hang")
    h = make_harness(a)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(5)))
    wait_until(lambda: a.running is not None and len(a.pending) == 1)
    h.scheduler.cancel(gid)
    wait_until(lambda: not a.busy())
    snap = h.scheduler.wait(gid, timeout=5)
    assert snap.state is GroupState.CANCELLED
    assert {j.state for j in snap.jobs} == {JobState.CANCELLED}
    assert len(a.submitted) == 2  # the other three never left the client
    assert a.submitted[1]["prompt_id"] in a.deleted
    assert a.submitted[0]["prompt_id"] in a.interrupted


def test_retry_failed_reuses_seeds(make_harness, tmp_path: Path) -> None:
    a = FakeServer("a", "error")
    h = make_harness(a, retries=0)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(2)))
    assert h.scheduler.wait(gid, timeout=10).state is GroupState.FAILED
    a.behaviour = "ok"
    assert h.scheduler.retry_failed(gid) == 2
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.COMPLETED
    seeds = [item["prompt"]["3"]["inputs"]["seed"] for item in a.submitted]
    assert seeds[:2] == seeds[2:] or sorted(seeds[:2]) == sorted(seeds[2:])


def test_stream_drop_falls_back_to_polling(make_harness, tmp_path: Path) -> None:
    a = FakeServer("a", duration=0.2)
    h = make_harness(a)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(3)))
    wait_until(lambda: a.running is not None)
    h.streams["a"].drop()
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.COMPLETED
    h.streams["a"].connect(reconnect=True)
    assert len(a.submitted) == 3


def test_resume_after_client_death_renders_nothing_twice(make_harness, tmp_path: Path) -> None:
    from scheduler_fakes import Placement

    from nuke_comfyui.core.scheduler import Scheduler

    a = FakeServer("a", duration=0.15)
    h = make_harness(a)
    plan = fake_plan(tmp_path / "out", frames(6))
    gid = h.scheduler.submit_plan(plan)
    wait_until(lambda: len(a.history) >= 2 and a.running is not None)
    h.scheduler.stop()  # the client dies; the server keeps rendering what it was given
    submitted_before = len(a.submitted)
    assert 2 <= submitted_before < 6

    revived = Scheduler(h.pool, h.journal, poll_interval=0.05, placement_factory=Placement,
                        stream_factory=lambda cfg, cb: _NoStream(),
                        plan_factory=lambda request, group_id: fake_plan(tmp_path / "out", frames(6)))
    revived.start()
    try:
        assert revived.resume(gid[:8]) == gid
        snap = revived.wait(gid, timeout=15)
    finally:
        revived.stop()
    assert snap.state is GroupState.COMPLETED, [(j.state, j.error) for j in snap.jobs]
    assert len(a.submitted) == 6  # every frame sent exactly once across both clients
    assert len({j.outputs[0] for j in snap.jobs}) == 6
    assert all(os.path.exists(j.outputs[0]) for j in snap.jobs)


class _NoStream:
    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def test_dispatch_is_not_a_scan_of_the_group(make_harness, tmp_path: Path) -> None:
    a = FakeServer("a", duration=0.0)
    h = make_harness(a)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(300)))
    assert h.scheduler.wait(gid, timeout=30).state is GroupState.COMPLETED
    # One choose() per dispatched job plus a bounded number of "no room" answers per pass,
    # never one per waiting job.
    assert h.pool.choose_calls < 300 * 3


def test_ten_thousand_job_group_is_small(make_harness, tmp_path: Path) -> None:
    import tracemalloc

    h = make_harness(FakeServer("a"))
    h.pool.choose = lambda placement, in_flight, backlog=1: None  # no room anywhere: every job waits client-side
    tracemalloc.start()
    try:
        gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(10_000)))
        current, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current < 60 * 1024 * 1024
    snap = h.scheduler.snapshot(gid)
    assert snap.total == 10_000 and snap.state is GroupState.QUEUED
    assert len(h.journal.jobs(gid)) == 10_000


def test_pool_offline_is_verified_before_requeueing(make_harness, tmp_path: Path) -> None:
    from scheduler_fakes import Status

    a, b = FakeServer("a", duration=0.3), FakeServer("b", duration=0.3)
    h = make_harness(a, b)
    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(4)))
    wait_until(lambda: a.running is not None and b.running is not None)
    h.pool.publish(Status("a", 8, state="offline"))  # a flaky probe: a still answers
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.COMPLETED
    assert all(j.attempts == 1 for j in snap.jobs)

    gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out2", frames(4)))
    wait_until(lambda: a.running is not None and b.running is not None)
    a.behaviour = "down"  # now it really is gone (its events stop too)
    a.stream_cb = None
    h.pool.publish(Status("a", 8, state="offline"))
    snap = h.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.COMPLETED
    moved = [j for j in snap.jobs if j.attempt_log[0].server == "a"]
    assert moved and all(j.server == "b" and j.attempt_log[0].outcome == "lost" for j in moved)
