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

A Nuke session outlives one render, so the halt is said where an artist looks and can be lifted
there: every group with work left carries the notice (`halted` on its progress, view and
snapshot: the node's status and the Job Results panel show it once, each with its own way on),
and `lift` — called by retry, resume and submit, i.e. the node's Retry after space was freed —
writes what waits and sends work again, or says the journal still cannot be written.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable, Optional, Tuple

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
            notice = self.notice()
            for group in list(s.groups.values()):
                if group.pending_work > 0 or group.active:
                    group.halted = notice
                    s.group_changed(group)  # watchers (the node, the panel) hear it now
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

    def lift(self, write: Callable[[], None]) -> None:
        """Try the journal again and, when it can be written, send work again. Raises JournalError
        with the notice while it still cannot be written. Called without the lock: `write` is one
        real write (Journal.touch) then what waits (JournalSync.flush).

        A later write that still fails (a disk with room for a row, not for a render's prompts)
        halts again and says so again, which is the truth.
        """
        s = self.state
        with s.lock:
            if s.halted is None:
                return
        try:
            write()
        except JournalError as exc:
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            with s.lock:
                s.halted = str(cause).strip() or s.halted
                notice = self.notice()
                for group in list(s.groups.values()):
                    if group.halted is not None and group.halted != notice:  # the reason changed
                        group.halted = notice
                        s.group_changed(group)
            raise JournalError(notice) from None
        with s.lock:
            s.halted = None
            for group in list(s.groups.values()):
                if group.halted is not None:
                    group.halted = None
                    s.group_changed(group)
            s.changed.notify_all()
        log.warning("the job journal %s can be written again: sending work again", self.journal_path)
        s.wake.set()

    def notice(self) -> str:
        """What failed and where to free space, without how to go on (each front end says its own)."""
        folder = getattr(self.journal_path, "parent", self.journal_path)
        return (f"the job journal {self.journal_path} cannot be written ({self.state.halted}), so no new work "
                f"was sent; free space in {folder} (or make it writable)")

    def message(self, group_id: str) -> str:
        """The one line the command line prints: what failed, where, and how to finish the render."""
        return f"{self.notice()}, then run `nuke-comfyui resume {group_id[:8]}` to finish the render"

    def stopped(self, group_id: str) -> JournalError:
        return JournalError(self.message(group_id))
