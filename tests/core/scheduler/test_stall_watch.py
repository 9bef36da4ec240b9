"""A server that stalls mid-prompt while the others sit idle (issue 28, item 5).

Real-farm behaviour reproduced: one hung server held a render for the whole job timeout (300 s
by default): 298 of 300 frames were done in 3 s. Here the job timeout is 30 s and the stall
bound's floor 0.5 s; the healthy server's jobs take 0.05 s, so a prompt silent for 0.5 s while
it idles is stalled: it goes to the healthy server, is cancelled on the stalled one by id, and
a late success there is never collected (exactly once).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Dict

from scheduler_fakes import (
    ExecutionStart,
    FakeServer,
    HistoryEntry,
    OutputFile,
    PromptDone,
    fake_plan,
    frames,
    wait_until,
)

from nuke_comfyui.core.scheduler import GroupState, JobState


class StallingServer(FakeServer):
    """Starts its first prompt and then goes silent until `release()`, ignoring interrupts (a wedged
    GPU); released, it finishes that prompt *successfully* — the late success must be discarded."""

    def __init__(self, name: str) -> None:
        self.released = threading.Event()
        self.late: Dict[str, Any] = {}
        super().__init__(name)

    def _run(self) -> None:
        with self.lock:
            while not self.pending and not self._stop:
                self.lock.wait()
            if self._stop:
                return
            item = self.running = self.pending.pop(0)
        pid = item["prompt_id"]
        self._emit(item, ExecutionStart(pid))
        self.released.wait()
        with self.lock:
            self.history[pid] = HistoryEntry(pid, "success", True,
                                             [OutputFile("9", "images", f"{pid}_late.png", "", "output")], None)
            self.running = None
        self.late["pid"] = pid
        self._emit(item, PromptDone(pid))


def test_a_stalled_prompt_goes_elsewhere_long_before_the_timeout(make_harness: Any, tmp_path: Path) -> None:
    stalled, healthy = StallingServer("stalled"), FakeServer("healthy", duration=0.05)
    h = make_harness(stalled, healthy, job_timeout=30.0, stall_min_s=0.5)  # the fake pool offers "stalled" first
    try:
        started = time.monotonic()
        gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(8)))
        snap = h.scheduler.wait(gid, timeout=25)
        elapsed = time.monotonic() - started
        assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs]
        assert elapsed < 10.0, f"took {elapsed:.1f} s: the stall was not noticed before the 30 s timeout"
        first = stalled.submitted[0]["prompt_id"]
        assert first in stalled.interrupted or first in stalled.deleted  # cancelled there, by id
        assert h.scheduler.stalls.stalled.get("stalled", 0) >= 1  # reported
        moved = next(j for j in snap.jobs if any(a.prompt_id == first for a in j.attempt_log))
        assert moved.attempt_log[0].outcome == "stalled"
        outputs = list(moved.outputs)
    finally:
        stalled.released.set()
    wait_until(lambda: "pid" in stalled.late)
    time.sleep(0.3)  # the late PromptDone is handled (as a zombie)
    again = h.scheduler.snapshot(gid)
    job = next(j for j in again.jobs if j.job_id == moved.job_id)
    assert job.state is JobState.COMPLETED and list(job.outputs) == outputs  # never collected twice
    assert Path(outputs[0]).read_text().startswith("healthy:")
    rows = h.journal.attempts(moved.job_id)
    assert rows[0].outcome == "stalled" and rows[-1].outcome == "completed"


class StallsOnceServer(StallingServer):
    """Stalls on its first prompt like StallingServer; released, it finishes that one late and then
    runs the next prompts normally (a wedged GPU that came back)."""

    def _run(self) -> None:
        super()._run()
        FakeServer._run(self)


def test_the_stalled_server_is_reported_until_a_prompt_of_ours_moves_there_again(make_harness: Any,
                                                                                tmp_path: Path) -> None:
    """The pool's note (what the Server Status panel and `status` show) is set at the stall, survives
    the stalled prompt's own late answer (a zombie), and goes once a current prompt runs there."""
    stalled, healthy = StallsOnceServer("stalled"), FakeServer("healthy", duration=0.05)
    h = make_harness(stalled, healthy, job_timeout=30.0, stall_min_s=0.5)
    try:
        gid = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(4)))
        snap = h.scheduler.wait(gid, timeout=25)
        assert snap.state is GroupState.COMPLETED
        wait_until(lambda: h.pool.stall_notes.get("stalled") is not None)
        note = str(h.pool.stall_notes["stalled"])
        assert note.startswith("stalled: no progress for ") and " s on our prompt (at " in note
        assert "healthy" not in h.pool.stall_notes
    finally:
        stalled.released.set()
    wait_until(lambda: "pid" in stalled.late)
    time.sleep(0.3)  # the zombie's late PromptDone is handled: it proves nothing about the server
    assert h.pool.stall_notes["stalled"] == note

    again = h.scheduler.submit_plan(fake_plan(tmp_path / "out2", frames(2)))  # the fake pool offers "stalled" first
    assert h.scheduler.wait(again, timeout=25).state is GroupState.COMPLETED
    assert len(stalled.submitted) > 1  # a prompt of ours ran there again ...
    wait_until(lambda: h.pool.stall_notes.get("stalled", "") is None)  # ... so it is no longer reported
