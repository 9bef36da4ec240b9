"""The incremental reads (summary, view, changes) agree with the full snapshot through whole renders.

A sampler thread takes, under one hold of the scheduler's lock, the full snapshot and every cheap
read, many times while groups render, fail, retry and get cancelled, and checks each against the
snapshot: counters, failed children, output sequences (against a scan of every child) and a
reader that only ever applies `changes(since)` to what it had.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List

from scheduler_fakes import FakeServer, fake_plan, frames

from nuke_comfyui.core.scheduler import GroupState, JobState, read_models


class _Sampler:
    """Compares the reads of some groups until stopped; collects every mismatch."""

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        self.group_ids: List[str] = []
        self.mirrors: Dict[str, Dict[str, Any]] = {}  # group id -> job id -> snapshot, from changes only
        self.since: Dict[str, int] = {}
        self.samples = 0
        self.errors: List[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for group_id in list(self.group_ids):
            self.check(group_id)  # once more at the very end

    def _run(self) -> None:
        while not self._stop.is_set():
            for group_id in list(self.group_ids):
                self.check(group_id)
            self._stop.wait(0.003)

    def check(self, group_id: str) -> None:
        state = self.scheduler.state
        with state.lock:
            group = state.group(group_id)
            snap = read_models.group_snapshot(group)
            summary = read_models.progress(group)
            view = read_models.group_view(group)
            changes = read_models.group_changes(group, self.since.get(group_id, 0))
            scanned = read_models.scan_sequences(group)
        self.samples += 1
        mirror = self.mirrors.setdefault(group_id, {})
        if changes.full:
            mirror.clear()
        for job in changes.jobs:
            mirror[job.job_id] = job
        self.since[group_id] = changes.version
        states = [job.state for job in snap.jobs]
        failed = [job for job in snap.jobs if job.state in (JobState.FAILED, JobState.TIMEOUT)]
        expect = {
            "done": states.count(JobState.COMPLETED), "total": len(states),
            "cancelled": states.count(JobState.CANCELLED), "state": snap.state,
        }
        for name, value in (("summary", summary), ("view", view), ("changes", changes.progress)):
            got = {"done": value.done, "total": value.total, "state": value.state,
                   "cancelled": getattr(value, "cancelled", expect["cancelled"])}
            if got != expect or value.failed != snap.failed:
                self.errors.append(f"{name}: {got} failed={value.failed}, snapshot {expect} failed={snap.failed}")
        if snap.failed < len(failed):
            self.errors.append(f"failed count {snap.failed} below the failed children {len(failed)}")
        if [j.job_id for j in view.failed_jobs] != [j.job_id for j in failed]:
            self.errors.append("view.failed_jobs differ from the snapshot's failed children")
        if view.sequences != snap.sequences or snap.sequences != scanned:
            self.errors.append("sequences differ between the view, the snapshot and a scan of every child")
        stale = [(mirror.get(j.job_id), j) for j in snap.jobs if mirror.get(j.job_id) != j]
        if stale:
            old, new = stale[0]
            diff = {k: (getattr(old, k, None), v) for k, v in vars(new).items() if getattr(old, k, None) != v}
            self.errors.append(f"a reader applying changes(since) differs from the snapshot: {diff}")


def test_reads_agree_through_a_render_with_retries_failures_and_a_retry(make_harness, tmp_path: Path) -> None:
    ok, flaky, invalid = FakeServer("ok"), FakeServer("flaky", "error"), FakeServer("bad", "invalid")
    h = make_harness(ok, flaky, invalid, retries=1)
    sampler = _Sampler(h.scheduler)
    sampler.start()
    group_id = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(30, variations=2)))
    sampler.group_ids.append(group_id)
    first = h.scheduler.wait(group_id, timeout=60)
    assert first.state in (GroupState.PARTIAL, GroupState.COMPLETED)
    assert flaky.submitted, "the flaky server took jobs (whose retries went elsewhere)"
    invalid.behaviour = "ok"
    flaky.behaviour = "ok"
    retried = h.scheduler.retry_failed(group_id)
    final = h.scheduler.wait(group_id, timeout=60)
    sampler.stop()
    assert final.state is GroupState.COMPLETED and final.done == 60
    assert retried == first.failed
    assert sampler.samples > 10 and not sampler.errors, sampler.errors[:5]
    view = h.scheduler.view(group_id)
    assert len(view.sequences) == 2 and all(len(s.frames_done) == 30 for s in view.sequences)
    for server in (ok, flaky, invalid):
        server.close()


def test_reads_agree_through_a_cancel(make_harness, tmp_path: Path) -> None:
    a, b = FakeServer("a", duration=0.03), FakeServer("b", duration=0.03)
    h = make_harness(a, b)
    sampler = _Sampler(h.scheduler)
    sampler.start()
    group_id = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(40)))
    sampler.group_ids.append(group_id)
    deadline = threading.Event()
    while h.scheduler.summary(group_id).done < 4 and not deadline.wait(0.01):
        pass
    h.scheduler.cancel(group_id)
    final = h.scheduler.wait(group_id, timeout=30)
    sampler.stop()
    assert final.state is GroupState.PARTIAL or final.state is GroupState.CANCELLED
    assert h.scheduler.view(group_id).cancelled == sum(1 for j in final.jobs if j.state is JobState.CANCELLED) > 0
    assert sampler.samples > 10 and not sampler.errors, sampler.errors[:5]
    changes = h.scheduler.changes(group_id, since=final.version)
    assert changes.jobs == [] and changes.version == final.version and not changes.full
    for server in (a, b):
        server.close()
