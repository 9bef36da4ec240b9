"""When the journal cannot be written (disk full, read-only): stop sending work and end cleanly.

Why: the journal is what makes a render exactly-once and resumable — a prompt id is on disk
before its POST. Once a write fails, no new prompt may be sent. What the servers already have is
journaled, so it is followed to its end and its results are collected; queued children stay
queued in the journal, and `resume` finishes them once the journal can be written again.

Before, every dispatch pass logged a traceback ("job journal write failed; dispatch continues
without it"), the jobs placed in the failing pass were never sent and never given back, and the
render stalled for good. Now the first failure halts dispatch, is logged once without a
traceback, the unsent placements go back to the queue, and `Scheduler.wait` ends with one
message naming the journal's folder and the fix once nothing of ours runs any more.
"""

from __future__ import annotations

import logging
from typing import Iterable, Optional, Tuple

from nuke_comfyui.core.errors import JournalError
from nuke_comfyui.core.scheduler.jobs import ACTIVE, Job, JobState
from nuke_comfyui.core.scheduler.state import SchedulerState

log = logging.getLogger(__name__)


class JournalHalt:
    """Halts dispatch on the first failed journal write and says so once."""

    def __init__(self, state: SchedulerState, journal_path: object) -> None:
        self.state = state
        self.journal_path = journal_path

    @property
    def reason(self) -> Optional[str]:
        return self.state.halted

    def halt(self, exc: BaseException) -> None:
        """Stop sending work (thread-safe; logged on the first failure only)."""
        s = self.state
        with s.lock:
            if s.halted is not None:
                return
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            s.halted = str(cause).strip() or type(cause).__name__
            s.changed.notify_all()
        log.error("the job journal %s cannot be written (%s): no new work is sent; what runs now is "
                  "finished", self.journal_path, s.halted)
        s.wake.set()

    def unsend(self, placed: Iterable[Tuple[Job, str, str]]) -> None:
        """Give back jobs placed in a pass whose journal write failed: their POST never happened
        (their prompt id is not on disk, so it must never reach a server). Under the lock."""
        s = self.state
        for job, _server, pid in placed:
            if job.prompt_id != pid or job.state not in ACTIVE:
                continue
            s.by_prompt.pop(pid, None)
            s.release(pid)
            marker = s.submitting.pop(pid, None)
            if marker is not None:
                marker.set_result(None)
            if job.attempts and job.attempts[-1].prompt_id == pid:
                job.attempts.pop()
            s.dirty_attempts.pop((job.id, len(job.attempts or ()) + 1), None)
            job.group.active.discard(job)
            job.prompt_id = None
            job.move(JobState.QUEUED)
            s.dispatcher.enqueue(job, front=True)
            s.job_changed(job)

    def message(self, group_id: str) -> str:
        """The one line the user reads: what failed, where, and how to finish the render."""
        folder = getattr(self.journal_path, "parent", self.journal_path)
        return (f"the job journal {self.journal_path} cannot be written ({self.state.halted}), so no new work "
                f"was sent; free space in {folder} (or make it writable), then run `nuke-comfyui resume "
                f"{group_id[:8]}` to finish the render")

    def stopped(self, group_id: str) -> JournalError:
        return JournalError(self.message(group_id))
