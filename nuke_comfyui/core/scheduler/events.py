"""Immutable snapshots and progress events the scheduler hands to panels, the host and the CLI.

Snapshots are frozen, so they can cross threads safely. Events are delivered in order on one
delivery thread (`EventBus`), never while the scheduler holds its lock, so a slow or re-entrant
subscriber (a Qt slot, `nuke.executeInMainThread`, a progress bar) can never stall dispatch.
`GroupUpdated` carries a `GroupProgress` (counters only) rather than the full snapshot, so a
10,000-job group costs O(1) per event. Reads, cheapest first: `Scheduler.summary()` (counters),
`Scheduler.view()` (counters, output sequences and failed children: what a node's status line
and Read nodes need), `Scheduler.changes(since)` (the children changed since a version) and
`Scheduler.snapshot()` (every child: O(jobs), for the final report and a panel's first load).
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from nuke_comfyui.core.scheduler.group import GroupState
from nuke_comfyui.core.scheduler.jobs import JobState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AttemptSnapshot:
    n: int
    server: str
    prompt_id: str
    started: float
    ended: Optional[float]
    outcome: str
    error: Optional[str]


@dataclass(frozen=True)
class JobSnapshot:
    job_id: str
    group_id: str
    index: int
    frame: Optional[int]
    variation: int
    seed: int
    state: JobState
    server: Optional[str]
    prompt_id: Optional[str]
    attempts: int
    progress: float
    outputs: List[str]
    error: Optional[str]
    depends_on: List[str]
    attempt_log: List[AttemptSnapshot] = field(default_factory=list)
    frames: Tuple[int, ...] = ()  # a chunk's frames (frame batches); () for stills
    seeded: bool = True  # False: the workflow has no seed input (as OutputSequence.seeded)

    def to_json(self) -> Dict[str, Any]:
        """The per-job object of `render --json` (a chunk also lists its `frames`)."""
        data: Dict[str, Any] = {
            "job_id": self.job_id, "frame": self.frame, "variation": self.variation, "seed": self.seed,
            "server": self.server, "state": self.state.value, "attempts": self.attempts,
            "outputs": list(self.outputs), "error": self.error,
        }
        if len(self.frames) > 1:
            data["frames"] = list(self.frames)
        return data


@dataclass(frozen=True)
class OutputSequence:
    """One image sequence the group produced: one per variation and output node (a Read node each)."""

    variation: int
    seed: int
    output_node: str
    pattern: str  # "/out/shot_1a2b3c4d/var01/shot_var01.%04d.png"
    first: int
    last: int
    frames_done: List[int]
    servers: List[str]
    seeded: bool = True  # False: the workflow has no seed input, so `seed` means nothing to show


@dataclass(frozen=True)
class GroupProgress:
    """The cheap part of a group's state: counters, fraction and ETA."""

    group_id: str
    label: str
    state: GroupState
    done: int
    failed: int
    total: int
    fraction: float
    eta_s: Optional[float]
    #: set while the group has work left and the journal cannot be written, so none of it is sent:
    #: what failed and where to free space (journal_halt.py); each front end adds how to go on
    halted: Optional[str] = None


@dataclass(frozen=True)
class GroupView:
    """A group without its children: counters, output sequences and the failed children.

    O(sequences + failures) to build, so the host can refresh a node on every batch of events.
    """

    group_id: str
    label: str
    state: GroupState
    output_dir: str
    done: int
    failed: int
    cancelled: int
    total: int
    fraction: float
    eta_s: Optional[float]
    sequences: List[OutputSequence]
    failed_jobs: List[JobSnapshot]  # failed and timed-out children, in job order
    version: int
    halted: Optional[str] = None  # as GroupProgress.halted


@dataclass(frozen=True)
class GroupChanges:
    """What changed in a group after version `since`: pass `version` as the next `since`.

    `full` means `since` was older than the group itself (e.g. a resume rebuilt it): `jobs` then
    holds every child and `sequences` every sequence, so a reader replaces what it had.
    """

    group_id: str
    since: int
    version: int
    full: bool
    progress: GroupProgress
    jobs: List[JobSnapshot]  # changed children (oldest change first), then the other in-flight ones
    sequences: List[OutputSequence]  # new or grown sequences


@dataclass(frozen=True)
class GroupSnapshot:
    group_id: str
    label: str
    state: GroupState
    output_dir: str
    jobs: List[JobSnapshot]
    done: int
    failed: int
    total: int
    fraction: float
    eta_s: Optional[float]
    sequences: List[OutputSequence]
    version: int = 0  # pass to Scheduler.changes() to hear only what changed after this snapshot
    halted: Optional[str] = None  # as GroupProgress.halted

    @property
    def failed_jobs(self) -> List[JobSnapshot]:
        """Failed and timed-out children, in job order (what GroupView carries)."""
        return [job for job in self.jobs if job.state in (JobState.FAILED, JobState.TIMEOUT)]

    @property
    def cancelled(self) -> int:
        return sum(1 for job in self.jobs if job.state is JobState.CANCELLED)

    def to_json(self) -> Dict[str, Any]:
        """The `render --json` summary."""
        return {
            "group_id": self.group_id, "label": self.label, "state": self.state.value,
            "output_dir": self.output_dir, "done": self.done, "failed": self.failed, "total": self.total,
            "jobs": [job.to_json() for job in self.jobs],
            "sequences": [
                {"variation": s.variation, "seed": s.seed, "output_node": s.output_node, "pattern": s.pattern,
                 "first": s.first, "last": s.last, "frames_done": list(s.frames_done)}
                for s in self.sequences
            ],
        }


#: what the host's node updates read: a full snapshot or the cheaper view (same fields they use)
GroupReport = Union[GroupSnapshot, GroupView]


@dataclass(frozen=True)
class JobUpdated:
    job: JobSnapshot


@dataclass(frozen=True)
class GroupUpdated:
    group: GroupProgress


SchedulerEvent = Union[JobUpdated, GroupUpdated]
Subscriber = Callable[[SchedulerEvent], None]


class EventBus:
    """Ordered, asynchronous delivery of scheduler events to subscribers on one thread."""

    def __init__(self) -> None:
        self._subscribers: List[Subscriber] = []
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns the function that removes it."""
        with self._lock:
            self._subscribers = [*self._subscribers, callback]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [cb for cb in self._subscribers if cb is not callback]

        return unsubscribe

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subscribers)

    def publish(self, event: SchedulerEvent) -> None:
        if self._subscribers:
            self._queue.put(event)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="nuke-comfyui-events", daemon=True)
            self._thread.start()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every event published so far was delivered (False if `timeout` passed first)."""
        if self._thread is None:
            return True
        delivered = threading.Event()
        self._queue.put(delivered)
        return delivered.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is queued, then stop the delivery thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            if isinstance(event, threading.Event):  # a drain() marker: everything before it is out
                event.set()
                continue
            for callback in self._subscribers:
                try:
                    callback(event)
                except Exception:  # a broken subscriber must not silence the others
                    log.exception("scheduler event subscriber %r failed", callback)
