"""Jobs and their state machine: the smallest unit the scheduler sends to one server.

A job is one frame (or chunk) of one variation. Groups of 10,000 jobs must stay small and fast,
so a job is a slotted object holding only plain values; its prompt is built from the group's
template at dispatch time, never stored. Every state change goes through `Job.move`, which
refuses transitions that would make the bookkeeping lie (e.g. completed → running).
"""

from __future__ import annotations

import time
from enum import Enum
from typing import Any, Deque, Dict, FrozenSet, List, Optional, Protocol, Set, Tuple


class JobState(str, Enum):
    """Where a job is. `blocked` waits on dependencies; the last four are final."""

    QUEUED = "queued"
    BLOCKED = "blocked"
    DISPATCHED = "dispatched"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


FINAL: FrozenSet[JobState] = frozenset(
    {JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT, JobState.CANCELLED}
)
#: states in which a prompt of ours may exist on a server
ACTIVE: FrozenSet[JobState] = frozenset({JobState.DISPATCHED, JobState.RUNNING})

_ALLOWED: Dict[JobState, FrozenSet[JobState]] = {
    JobState.QUEUED: frozenset({JobState.DISPATCHED, JobState.BLOCKED, JobState.CANCELLED, JobState.FAILED,
                                JobState.COMPLETED}),
    JobState.BLOCKED: frozenset({JobState.QUEUED, JobState.CANCELLED, JobState.FAILED}),
    JobState.DISPATCHED: frozenset({JobState.RUNNING, JobState.QUEUED, JobState.COMPLETED, JobState.FAILED,
                                    JobState.TIMEOUT, JobState.CANCELLED}),
    JobState.RUNNING: frozenset({JobState.QUEUED, JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT,
                                 JobState.CANCELLED}),
    # retry re-queues failed and cancelled children (resume too, when asked to finish a cancelled
    # group); nothing leaves completed.
    JobState.FAILED: frozenset({JobState.QUEUED, JobState.BLOCKED}),
    JobState.TIMEOUT: frozenset({JobState.QUEUED, JobState.BLOCKED}),
    JobState.COMPLETED: frozenset(),
    JobState.CANCELLED: frozenset({JobState.QUEUED, JobState.BLOCKED}),
}


class JobGroup(Protocol):
    """What a job needs from the group it belongs to (group.Group is the one implementation).

    Declared here, not imported, so jobs.py and group.py no longer import each other: the group
    module builds on jobs, and a job only knows this contract.
    """

    id: str
    plan: Any
    timeout: Optional[float]
    cancel_requested: bool
    first_dispatch: Optional[float]
    by_id: Dict[str, Job]
    active: Set[Job]
    ready: Deque[Job]
    constrained: Deque[Job]
    released_reason: Optional[str]  # set when this process stopped following the group (taken over)

    def count_move(self, old: JobState, new: JobState, job: Job) -> None: ...

    def touch(self, job: Job) -> int: ...


class InvalidTransition(RuntimeError):
    """A programming error: the scheduler tried a state change the state machine forbids."""


class Attempt:
    """One try of a job on one server (recorded in the journal, shown by `--json`)."""

    __slots__ = ("ended", "error", "n", "outcome", "prompt_id", "server", "started")

    def __init__(self, n: int, server: str, prompt_id: str, started: Optional[float] = None) -> None:
        self.n = n
        self.server = server
        self.prompt_id = prompt_id
        self.started = time.time() if started is None else started
        self.ended: Optional[float] = None
        self.outcome = "dispatched"
        self.error: Optional[str] = None

    def finish(self, outcome: str, error: Optional[str] = None) -> None:
        self.outcome = outcome
        self.error = error
        self.ended = time.time()

    def to_json(self) -> Dict[str, object]:
        return {
            "n": self.n, "server": self.server, "prompt_id": self.prompt_id, "started": self.started,
            "ended": self.ended, "outcome": self.outcome, "error": self.error,
        }


class Job:
    """One unit of work. Plain slots only: ~0.5 KB each, so 10,000 of them are a few MB."""

    __slots__ = (
        "attempts",
        "budget_start",
        "client_id",
        "dependents",
        "depends_on",
        "deps_left",
        "dispatched_at",
        "error",
        "exclude",
        "failures",
        "frame",
        "group",
        "id",
        "index",
        "input_path",
        "min_vram",
        "outputs",
        "progress",
        "prompt_id",
        "seed",
        "server",
        "started_at",
        "state",
        "variation",
        "watched",
    )

    def __init__(
        self,
        group: JobGroup,
        index: int,
        *,
        frame: Optional[int],
        variation: int,
        seed: int,
        input_path: Optional[str] = None,
        depends_on: Tuple[str, ...] = (),
    ) -> None:
        self.group = group
        self.index = index
        self.id = f"{group.id}.{index}"
        self.frame = frame
        self.variation = variation
        self.seed = seed
        self.input_path = input_path
        self.depends_on = depends_on
        self.deps_left = 0
        self.dependents: Optional[List[Job]] = None
        self.state = JobState.QUEUED
        self.server: Optional[str] = None
        self.prompt_id: Optional[str] = None
        self.client_id: Optional[str] = None
        self.watched = False  # True while the server's event stream will tell us about this prompt
        self.attempts: Optional[List[Attempt]] = None
        self.failures = 0  # attempts that count against the retry budget
        self.budget_start = 0  # attempts made before the current budget (a retry starts a fresh one)
        self.exclude: Optional[Set[str]] = None
        self.min_vram: Optional[int] = None
        self.progress = 0.0
        self.outputs: Optional[List[str]] = None
        self.error: Optional[str] = None
        self.dispatched_at = 0.0
        self.started_at = 0.0

    # -- state ---------------------------------------------------------------------------------

    @property
    def final(self) -> bool:
        return self.state in FINAL

    def move(self, new: JobState) -> JobState:
        """Change state, keeping the group's counters right; returns the old state."""
        old = self.state
        if new == old:
            return old
        if new not in _ALLOWED[old]:
            raise InvalidTransition(f"job {self.id}: {old.value} -> {new.value} is not a valid transition")
        self.state = new
        self.group.count_move(old, new, self)
        return old

    @property
    def attempt(self) -> Optional[Attempt]:
        """The current (latest) attempt, if any."""
        return self.attempts[-1] if self.attempts else None

    def new_attempt(self, server: str, prompt_id: str) -> Attempt:
        attempt = Attempt(len(self.attempts or ()) + 1, server, prompt_id)
        if self.attempts is None:
            self.attempts = []
        self.attempts.append(attempt)
        return attempt

    def add_exclusion(self, server: str) -> None:
        if self.exclude is None:
            self.exclude = set()
        self.exclude.add(server)

    @property
    def constrained(self) -> bool:
        """True if this job cannot use its group's shared placement (exclusions or VRAM floor)."""
        return bool(self.exclude) or self.min_vram is not None

    def __repr__(self) -> str:
        return f"Job({self.id}, {self.state.value}, server={self.server})"
