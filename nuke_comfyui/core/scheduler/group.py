"""A job group: the children of one render request and their aggregate state.

The group keeps counters per job state (updated by `Job.move`) so its state, fraction and ETA
cost O(1) however many children it has, and a ready deque of jobs whose dependencies are met,
so the dispatcher never scans the whole group to find work.
"""

from __future__ import annotations

import time
from collections import deque
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

    # -- building ------------------------------------------------------------------------------

    def add(self, job: Job) -> None:
        self.jobs.append(job)
        self.by_id[job.id] = job
        self.counts[job.state] += 1

    def count_move(self, old: JobState, new: JobState) -> None:
        self.counts[old] -= 1
        self.counts[new] += 1

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
