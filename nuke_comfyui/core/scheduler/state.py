"""The scheduler's shared state and the few transitions every part of it uses.

All job state lives here, behind one lock, so the parts (submission, tracking, recovery,
lifecycle, the dispatch loop) can each stay small: they change state only through the methods
below, which keep the indexes (`by_prompt`, `occupying`, the dispatcher's `in_flight`), the
journal's dirty sets and the event bus in step. Subscribers get immutable snapshots on the event
bus thread, never under the lock.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, cast

from nuke_comfyui.core.errors import NoCapableServer
from nuke_comfyui.core.scheduler import read_models
from nuke_comfyui.core.scheduler.dispatcher import Dispatcher
from nuke_comfyui.core.scheduler.events import EventBus, GroupUpdated, JobUpdated
from nuke_comfyui.core.scheduler.group import Group
from nuke_comfyui.core.scheduler.jobs import ACTIVE, Attempt, Job, JobState

Timer = Tuple[float, int, str, Job, str]


def owning_group(job: Job) -> Group:
    """The job's group as the scheduler built it: a job itself only knows the `JobGroup` contract
    (jobs.py), and every job the scheduler holds was made by `Submission.build_group` with a Group."""
    return cast(Group, job.group)


class ServerLink:
    """Our view of one server: its client, its event stream and whether the stream is up."""

    __slots__ = ("client", "client_id", "config", "created", "name", "poll_busy", "stream", "stream_up")

    def __init__(self, config: Any, client: Any) -> None:
        self.name: str = config.name
        self.created = time.monotonic()
        self.config = config
        self.client = client
        self.stream: Any = None
        self.stream_up = False
        self.client_id = f"nkc-{uuid.uuid4().hex}"
        self.poll_busy = False


class SchedulerState:
    """Everything the parts share; every attribute is guarded by `lock` unless noted."""

    def __init__(self, pool: Any, dispatcher: Dispatcher, *, job_timeout: float, retries: int,
                 poll_interval: float) -> None:
        self.pool = pool
        self.dispatcher = dispatcher
        self.job_timeout = job_timeout
        self.retries = retries
        self.poll_interval = poll_interval
        self.sweep_interval = max(5.0, 10 * poll_interval)
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # wait() sleeps on this
        self.wake = threading.Event()  # thread-safe on its own
        self.bus = EventBus()
        self.groups: Dict[str, Group] = {}
        self.links: Dict[str, ServerLink] = {}
        self.by_prompt: Dict[str, Job] = {}  # prompt_id -> job, for the job's current attempt
        self.occupying: Dict[str, str] = {}  # prompt_id -> server, every prompt of ours on a server
        self.timers: List[Timer] = []
        self._seq = itertools.count()
        self.dirty_jobs: Set[Job] = set()
        self.dirty_attempts: Dict[Tuple[str, int], Tuple[str, Attempt]] = {}
        self.dirty_groups: Set[Group] = set()
        self.tasks: List[Callable[[], None]] = []  # network work for the worker pool
        self.suspects: queue.SimpleQueue[str] = queue.SimpleQueue()  # pool says offline (no lock)
        self.verify: Set[str] = set()  # servers whose prompts are all polled on the next pass
        self.submitting: Dict[str, Future[None]] = {}  # prompt_id -> done when its POST returned
        self.next_poll = 0.0
        self.next_sweep = time.monotonic() + self.sweep_interval
        self.executor: Optional[ThreadPoolExecutor] = None
        self.running = False
        self.start_stream: Optional[Callable[[ServerLink], None]] = None  # set by the tracking part
        self.suspect_until: Dict[str, float] = {}  # server -> when it may get one job again
        self.suspect_backoff: Dict[str, float] = {}  # server -> the next suspicion's length
        self.settled: Set[str] = set()  # groups that just ran out of work: release owner and memory
        # Set by the ownership part: has another process asked to cancel this group? (journal read)
        self.cancelled_elsewhere: Callable[[str], bool] = lambda group_id: False
        self.cancel_group: Optional[Callable[[str], Any]] = None  # runs a full cancel (worker thread)
        self.heard_at: Dict[str, float] = {}  # server -> when its stream last spoke of a prompt of ours
        # (written by the stream threads without the lock: one float per server, read by stall_watch.py)
        self.stall_next_look = 0.0
        self.halted: Optional[str] = None  # why no new work is sent: the journal failed (journal_halt.py)
        self.stall_notes: Dict[str, str] = {}  # server -> what the pool shows while it is stalled (stall_watch.py)
        self._stall_push = threading.Lock()  # the pool hears the newest note per server, whatever the task order
        self.taken_over: Dict[str, str] = {}  # group id -> by whom, for groups this process let go

    # -- lookups ---------------------------------------------------------------------------------

    def current(self, pid: Optional[str]) -> Optional[Job]:
        """The job whose *current* attempt is prompt `pid` (None for zombies and strangers)."""
        job = self.by_prompt.get(pid) if pid else None
        return job if job is not None and job.prompt_id == pid else None

    def group(self, group_id: str) -> Group:
        """A group running here, by id or unique prefix."""
        group = self.groups.get(group_id)
        if group is None:
            matches = [g for gid, g in self.groups.items() if gid.startswith(group_id)]
            if len(matches) == 1:
                return matches[0]
            raise KeyError(f"job group {group_id!r} is not running in this process; use resume() first")
        return group

    def timeout_of(self, job: Job) -> float:
        return float(job.group.timeout or job.group.plan.timeout or self.job_timeout)

    def statuses(self) -> List[Any]:
        statuses = getattr(self.pool, "statuses", None)
        return list(statuses()) if statuses is not None else []

    def link(self, server: str) -> ServerLink:
        """Our link to a server, created on first use; its event stream starts outside the lock."""
        link = self.links.get(server)
        if link is None:
            config = next((s for s in self.pool.servers() if s.name == server), None)
            if config is None:
                raise NoCapableServer(f"server {server!r} is not configured; check the server list")
            link = self.links[server] = ServerLink(config, self.pool.client(server))
            starter = self.start_stream
            if self.running and starter is not None:
                self.tasks.append(lambda: starter(link))
                self.wake.set()
        return link

    # -- indexes -------------------------------------------------------------------------------

    def push_timer(self, deadline: float, kind: str, job: Job, pid: str) -> None:
        heapq.heappush(self.timers, (deadline, next(self._seq), kind, job, pid))
        if len(self.timers) > 64 + 4 * len(self.by_prompt):
            self.drop_dead_timers()

    def drop_dead_timers(self) -> None:
        """Forget timers of prompts that already ended (they would hold finished jobs for a timeout)."""
        self.timers = [t for t in self.timers if t[3].prompt_id == t[4] and t[3].state in ACTIVE]
        heapq.heapify(self.timers)

    def detach(self, job: Job) -> None:
        """Forget the job's current prompt (its server slot is released separately)."""
        if job.prompt_id is not None and self.by_prompt.get(job.prompt_id) is job:
            del self.by_prompt[job.prompt_id]
        job.group.active.discard(job)
        job.watched = False

    def release(self, pid: str) -> None:
        """The prompt no longer occupies its server (finished, deleted or gone)."""
        server = self.occupying.pop(pid, None)
        if server is not None:
            self.dispatcher.release(server, pid)
            self.wake.set()

    # -- suspect servers -------------------------------------------------------------------------

    def suspect(self, server: str, now: float) -> None:
        """A job timed out on `server`: no new work there until it shows progress (or the backoff ends)."""
        backoff = self.suspect_backoff.get(server, max(10.0, self.job_timeout))
        self.suspect_until[server] = now + backoff
        self.suspect_backoff[server] = min(backoff * 2, 8 * max(10.0, self.job_timeout))
        self.dispatcher.blocked.add(server)

    def cleared(self, server: str) -> None:
        """The server made progress (a prompt started, moved or ended): it may get work again."""
        if server in self.suspect_until:
            del self.suspect_until[server]
            self.dispatcher.blocked.discard(server)
            self.suspect_backoff.pop(server, None)
            self.wake.set()

    def note_stall(self, server: str, note: str) -> None:
        """A prompt of ours stalled on `server` (under the lock): the pool shows `note` on its status."""
        self.stall_notes[server] = note
        self._push_stall_note(server)

    def moved(self, server: str) -> None:
        """A current prompt of ours moved on `server` (under the lock): no longer stalled."""
        if self.stall_notes.pop(server, None) is not None:
            self._push_stall_note(server)

    def _push_stall_note(self, server: str) -> None:
        """Tell the pool on a worker, never under the lock (its subscribers are panels and logs)."""
        report = getattr(self.pool, "report_stall", None)
        if report is None:
            return

        def push() -> None:
            with self._stall_push:  # the last push reads the newest note: tasks may run out of order
                report(server, self.stall_notes.get(server))

        self.tasks.append(push)
        self.wake.set()

    def expire_suspects(self, now: float) -> None:
        for server, until in list(self.suspect_until.items()):
            if until <= now:  # one job may try again; another timeout doubles the wait
                del self.suspect_until[server]
                self.dispatcher.blocked.discard(server)

    # -- transitions -----------------------------------------------------------------------------

    def finish(self, job: Job, state: JobState, error: Optional[str] = None,
               outputs: Optional[List[str]] = None) -> None:
        """Move a job to a final state, unblocking or sticking its dependents."""
        if job.state in ACTIVE:
            self.detach(job)
        job.move(state)
        job.error = error
        if outputs is not None:
            job.outputs = outputs
        if state is JobState.COMPLETED:
            if job.server in self.stall_notes:  # it rendered one of ours again
                self.moved(job.server)
            for dependent in job.dependents or ():
                dependent.deps_left -= 1
                if dependent.deps_left == 0 and dependent.state is JobState.BLOCKED:
                    dependent.move(JobState.QUEUED)
                    dependent.error = None
                    self.dispatcher.enqueue(dependent)
                    self.job_changed(dependent)
        elif state in (JobState.FAILED, JobState.TIMEOUT):
            self.mark_stuck(job)
        self.job_changed(job)
        self.group_changed(owning_group(job))

    def mark_stuck(self, failed: Job) -> None:
        for dependent in failed.dependents or ():
            if dependent.state is JobState.BLOCKED and not dependent.error:
                dependent.error = f"blocked: depends on job {failed.index} which {failed.state.value}"
                owning_group(dependent).stuck += 1
                self.job_changed(dependent)
                self.mark_stuck(dependent)

    def recount_stuck(self, group: Group) -> None:
        for job in group.jobs:
            if job.state is JobState.BLOCKED and job.error:
                job.error = None
        group.stuck = 0
        for job in group.jobs:
            if job.state in (JobState.FAILED, JobState.TIMEOUT):
                self.mark_stuck(job)

    def queue_or_block(self, job: Job) -> None:
        deps = [job.group.by_id[d] for d in job.depends_on if d in job.group.by_id]
        job.deps_left = sum(1 for d in deps if d.state is not JobState.COMPLETED)
        if job.deps_left:
            job.move(JobState.BLOCKED)
        else:
            job.move(JobState.QUEUED)
            self.dispatcher.enqueue(job)
        self.job_changed(job)

    # -- change notification -----------------------------------------------------------------------

    def job_changed(self, job: Job, journal: bool = True) -> None:
        job.group.touch(job)
        if journal:
            self.dirty_jobs.add(job)
        if self.bus.has_subscribers:
            self.bus.publish(JobUpdated(read_models.job_snapshot(job, with_attempts=False)))
            self.bus.publish(GroupUpdated(read_models.progress(owning_group(job))))

    def group_changed(self, group: Group) -> None:
        group.bump()
        self.dirty_groups.add(group)
        if group.pending_work == 0 and not group.active:
            self.settled.add(group.id)
        if self.bus.has_subscribers:
            self.bus.publish(GroupUpdated(read_models.progress(group)))
        self.changed.notify_all()

    def dirty_attempt(self, job: Job, attempt: Attempt) -> None:
        self.dirty_attempts[(job.id, attempt.n)] = (job.id, attempt)
        self.dirty_jobs.add(job)
        job.group.touch(job)
