"""Keeping the journal in step with the live state: batched, ordered writes.

Every change marks its job, attempt or group dirty (see state.py); `flush` writes all of them
in one transaction. The dispatch loop flushes before any POST, so a prompt_id is on disk before
the server can know it, and `kill -9` + `resume` never loses or duplicates a prompt.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

from nuke_comfyui.core.errors import JournalError
from nuke_comfyui.core.group_owners import GroupTakenOver
from nuke_comfyui.core.journal import AttemptRow, GroupRow, JobRow, Journal
from nuke_comfyui.core.scheduler.group import Group
from nuke_comfyui.core.scheduler.jobs import Job
from nuke_comfyui.core.scheduler.state import SchedulerState


class JournalSync:
    """Writes the state's dirty rows to the journal."""

    def __init__(self, state: SchedulerState, journal: Journal) -> None:
        self.state = state
        self.journal = journal
        self._flush_lock = threading.Lock()
        #: called (without the state lock) with (group id, owner) when another process took a group
        #: over: that group's rows are not written, and the callback stops following it here
        self.on_taken_over: Optional[Callable[[str, str], None]] = None

    def create(self, group: Group) -> None:
        """Journal a new group and all its children (before any of them can be dispatched)."""
        self.journal.create_group(
            GroupRow(group.id, group.label, group.plan.request_json, group.output_dir, group.state.value,
                     created=group.created),
            [job_row(job) for job in group.jobs],
        )

    def flush(self) -> None:
        """Write everything that changed since the last flush, in one transaction.

        Serialised by its own lock (never taken while holding the state lock), so two flushers
        can never write an older row over a newer one. Rows of a group another process has taken
        over are dropped (that process owns them now) and the rest is written.
        """
        for _ in range(16):  # one pass per group taken over at once, at most
            try:
                return self._flush_once()
            except GroupTakenOver as exc:
                if self.on_taken_over is None:
                    raise
                self.on_taken_over(exc.group_id, exc.owner)
        self._flush_once()

    def _flush_once(self) -> None:
        with self._flush_lock:
            state = self.state
            with state.lock:
                if not (state.dirty_jobs or state.dirty_attempts or state.dirty_groups):
                    return
                dirty = state.dirty_jobs, state.dirty_attempts, state.dirty_groups
                jobs = [job_row(job) for job in state.dirty_jobs]
                attempts = [AttemptRow(job_id, a.n, a.server, a.prompt_id, a.started, a.outcome, a.ended,
                                       a.error)
                            for job_id, a in state.dirty_attempts.values()]
                groups = [(g.id, g.state.value) for g in state.dirty_groups]
                state.dirty_jobs, state.dirty_attempts, state.dirty_groups = set(), {}, set()
            try:
                self.journal.write(jobs=jobs, attempts=attempts, group_states=groups, owned=True)
            except GroupTakenOver as exc:
                with state.lock:  # the rest is written by the next flush; that group's rows are not ours
                    gone = exc.group_id
                    state.dirty_jobs |= {job for job in dirty[0] if job.group.id != gone}
                    state.dirty_attempts = {**{k: v for k, v in dirty[1].items()
                                               if not k[0].startswith(gone + ".")}, **state.dirty_attempts}
                    state.dirty_groups |= {group for group in dirty[2] if group.id != gone}
                raise
            except JournalError:
                with state.lock:  # nothing is forgotten: the rows are written by the next flush that works
                    state.dirty_jobs |= dirty[0]
                    state.dirty_attempts = {**dirty[1], **state.dirty_attempts}
                    state.dirty_groups |= dirty[2]
                raise


def job_row(job: Job) -> JobRow:
    return JobRow(
        job.id, job.group.id, job.index, job.frame, job.variation, job.seed, job.state.value, job.server,
        job.prompt_id, len(job.attempts or ()), list(job.outputs or ()), job.error,
        list(job.depends_on),
    )
