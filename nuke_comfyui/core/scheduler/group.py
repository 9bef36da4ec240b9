"""A job group: the children of one render request and their aggregate state.

The group keeps counters per job state (updated by `Job.move`) so its state, fraction and ETA
cost O(1) however many children it has, and a ready deque of jobs whose dependencies are met,
so the dispatcher never scans the whole group to find work.

For the read models it also keeps, as jobs change, what progress readers would otherwise scan
every child for: a version number and the jobs changed at each version (`changed_since`), the
failed children, and the completed ones in completion order (the SequenceBook absorbs them).
Versions come from one process-wide counter, so a version read from an earlier incarnation of a
group (before a resume rebuilt it) is older than everything in the new one.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict, deque
from enum import Enum
from typing import Any, Deque, Dict, List, Optional, Set

from nuke_comfyui.core.scheduler.jobs import Job, JobState


class GroupState(str, Enum):
    """Aggregate of a group's children. One failed child makes a group partial, never failed."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


_VERSIONS = itertools.count(1)  # next() on it is atomic under the GIL
_FAILED = frozenset({JobState.FAILED, JobState.TIMEOUT})

GROUP_FINAL = frozenset({GroupState.COMPLETED, GroupState.PARTIAL, GroupState.FAILED, GroupState.CANCELLED})


class Group:
    """The live state of one job group inside the scheduler (guarded by the scheduler's lock)."""

    def __init__(
        self,
        group_id: str,
        *,
        label: str,
        output_dir: str,
        request: Any = None,
        plan: Any = None,
        created: Optional[float] = None,
    ) -> None:
        self.id = group_id
        self.label = label
        self.output_dir = output_dir
        self.request = request  # the RenderRequest (plain data)
        self.plan = plan  # how to build each job's prompt and where results go
        self.created = time.time() if created is None else created
        self.jobs: List[Job] = []
        self.by_id: Dict[str, Job] = {}
        self.counts: Dict[JobState, int] = {state: 0 for state in JobState}
        self.stuck = 0  # blocked jobs whose dependency failed
        self.ready: Deque[Job] = deque()  # queued, dependencies met, shared placement
        self.constrained: Deque[Job] = deque()  # queued with exclusions or a VRAM floor (retries)
        self.active: Set[Job] = set()  # dispatched or running
        self.cancel_requested = False
        self.first_dispatch: Optional[float] = None  # time.monotonic()
        self.timeout: Optional[float] = None
        self.waiting_reason: Optional[str] = None  # why ready jobs cannot be placed anywhere
        self.waiting_since: Optional[float] = None  # time.monotonic() since no server could take them
        self.released_reason: Optional[str] = None  # set when this process stopped following the group
        self.halted: Optional[str] = None  # the journal cannot be written: why, and where (journal_halt.py)
        self.version = self.base_version = next(_VERSIONS)
        self.changes: OrderedDict[Job, int] = OrderedDict()  # job -> version of its last change, oldest first
        self.failed_jobs: Dict[Job, None] = {}  # failed and timed-out children (an ordered set)
        self.completed_log: List[Job] = []  # completed children in the order they completed
        self.sequence_book: Any = None  # the SequenceBook, made on the first read (read_models.py)

    # -- building ------------------------------------------------------------------------------

    def add(self, job: Job) -> None:
        self.jobs.append(job)
        self.by_id[job.id] = job
        self.counts[job.state] += 1

    def count_move(self, old: JobState, new: JobState, job: Job) -> None:
        self.counts[old] -= 1
        self.counts[new] += 1
        if old in _FAILED:
            self.failed_jobs.pop(job, None)
        if new in _FAILED:
            self.failed_jobs[job] = None
        elif new is JobState.COMPLETED:  # final: a job completes at most once
            self.completed_log.append(job)

    def touch(self, job: Job) -> int:
        """Record that `job` changed (anything a snapshot shows); returns the group's new version."""
        self.version = version = next(_VERSIONS)
        self.changes[job] = version
        self.changes.move_to_end(job)
        return version

    def bump(self) -> int:
        """Record a change of the group itself (cancel asked, released, counters): a new version."""
        self.version = version = next(_VERSIONS)
        return version

    def changed_since(self, version: int) -> Optional[List[Job]]:
        """Jobs changed after `version`, oldest change first, in O(changes); None when `version` is
        older than this group itself (the caller needs everything)."""
        if version < self.base_version:
            return None
        found: List[Job] = []
        for job in reversed(self.changes):
            if self.changes[job] <= version:
                break
            found.append(job)
        found.reverse()
        return found

    # -- queries -------------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return len(self.jobs)

    @property
    def done(self) -> int:
        return self.counts[JobState.COMPLETED]

    @property
    def failed(self) -> int:
        return self.counts[JobState.FAILED] + self.counts[JobState.TIMEOUT] + self.stuck

    @property
    def pending_work(self) -> int:
        """Children that can still make progress (not final, not stuck behind a failed dependency)."""
        c = self.counts
        return (c[JobState.QUEUED] + c[JobState.DISPATCHED] + c[JobState.RUNNING]
                + c[JobState.BLOCKED] - self.stuck)

    @property
    def state(self) -> GroupState:
        c = self.counts
        if self.pending_work > 0:
            if self.cancel_requested:
                return GroupState.RUNNING  # cancellation still reaching the servers
            started = self.first_dispatch is not None or c[JobState.COMPLETED] or self.failed
            return GroupState.RUNNING if started else GroupState.QUEUED
        if self.cancel_requested and c[JobState.CANCELLED]:
            return GroupState.CANCELLED
        if c[JobState.COMPLETED] == self.total:
            return GroupState.COMPLETED
        if c[JobState.COMPLETED] == 0:
            return GroupState.CANCELLED if c[JobState.CANCELLED] == self.total else GroupState.FAILED
        return GroupState.PARTIAL

    def fraction(self) -> float:
        """Fraction of the group's work behind us: finished children plus progress of running ones."""
        if not self.jobs:
            return 1.0
        finished = self.total - self.pending_work
        running = sum(job.progress for job in self.active)
        return min(1.0, (finished + running) / self.total)

    def eta(self, now: Optional[float] = None) -> Optional[float]:
        """Seconds left, from the group's measured throughput so far (None until it has one)."""
        if self.first_dispatch is None or self.pending_work == 0:
            return None if self.pending_work else 0.0
        fraction = self.fraction()
        if fraction <= 0.0:
            return None
        elapsed = (time.monotonic() if now is None else now) - self.first_dispatch
        return max(0.0, elapsed / fraction * (1.0 - fraction))
