"""The scheduler: pull-based dispatch of job groups over the pool, failure handling, journal.

Threads and who owns what:
- one dispatcher thread sleeps on a wake-up event (never busy-polls) and, when woken or when a
  deadline falls due, fires timeouts, asks the `Dispatcher` for placements, journals every
  change since the last pass in one transaction (so a prompt_id is on disk BEFORE its POST),
  then hands network work to the worker pool;
- a small worker pool does every network call (upload, submit, history, download, state polls,
  delete/interrupt), so a slow server blocks only its own calls;
- one EventStream per server reports start, progress and completion; when a stream is down, or
  after a reconnect (nothing is replayed), the prompts it would have reported are polled with
  `client.prompt_state` instead;
- all job state lives behind one lock and changes only through the small methods below;
  subscribers get immutable snapshots on the event bus thread, never under the lock.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import queue
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from nuke_comfyui.core.errors import (
    JournalError,
    NoCapableServer,
    NukeComfyError,
    ServerUnavailable,
)
from nuke_comfyui.core.journal import AttemptRow, GroupRow, JobRow, Journal
from nuke_comfyui.core.scheduler import attempt as net
from nuke_comfyui.core.scheduler.dispatcher import Dispatcher
from nuke_comfyui.core.scheduler.events import (
    AttemptSnapshot,
    EventBus,
    GroupProgress,
    GroupSnapshot,
    GroupUpdated,
    JobSnapshot,
    JobUpdated,
    OutputSequence,
    SchedulerEvent,
)
from nuke_comfyui.core.scheduler.failures import (
    Action,
    Verdict,
    classify_execution_failure,
    classify_submit_error,
    lost_verdict,
    timeout_verdict,
)
from nuke_comfyui.core.scheduler.group import Group, GroupState
from nuke_comfyui.core.scheduler.jobs import ACTIVE, Attempt, Job, JobState
from nuke_comfyui.core.scheduler.plan import GroupPlan
from nuke_comfyui.core.scheduler.results import OutputLayout, group_folder
from nuke_comfyui.core.scheduler.transfer import InputTransfer

log = logging.getLogger(__name__)

PlanFactory = Callable[[Any, str], GroupPlan]
StreamFactory = Callable[[Any, Callable[[Any], None]], Any]

_PROGRESS_STEP = 0.02  # publish progress when it moved at least this much


class _Link:
    """Our view of one server: its client, its event stream and whether the stream is up."""

    __slots__ = ("client", "client_id", "config", "name", "poll_busy", "stream", "stream_up")

    def __init__(self, config: Any, client: Any) -> None:
        self.name: str = config.name
        self.config = config
        self.client = client
        self.stream: Any = None
        self.stream_up = False
        self.client_id = f"nkc-{uuid.uuid4().hex}"
        self.poll_busy = False


class _Forward:
    """Stream callback bound to one server name (a class, so the binding is explicit and typed)."""

    __slots__ = ("name", "scheduler")

    def __init__(self, scheduler: Scheduler, name: str) -> None:
        self.scheduler = scheduler
        self.name = name

    def __call__(self, event: Any) -> None:
        self.scheduler._on_stream_event(self.name, event)


class Scheduler:
    """Runs job groups on a ServerPool; see the module docstring for the threading model."""

    def __init__(
        self,
        pool: Any,
        journal: Journal,
        *,
        job_timeout: Optional[float] = None,
        retries: Optional[int] = None,
        poll_interval: float = 0.5,
        plan_factory: Optional[PlanFactory] = None,
        stream_factory: Optional[StreamFactory] = None,
        placement_factory: Optional[Callable[..., Any]] = None,
        max_workers: Optional[int] = None,
    ) -> None:
        cluster = getattr(pool, "cluster", None)
        self.pool = pool
        self.journal = journal
        self.job_timeout = float(job_timeout if job_timeout is not None else
                                 getattr(cluster, "job_timeout", 300.0))
        self.retries = int(retries if retries is not None else getattr(cluster, "retries", 2))
        self.poll_interval = poll_interval
        self._plan_factory = plan_factory
        self._stream_factory = stream_factory
        self._max_workers = max_workers
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # wait() sleeps on this
        self._wake = threading.Event()
        self._flush_lock = threading.Lock()
        self._dispatcher = Dispatcher(pool, placement_factory or _default_placement())
        self._transfer = InputTransfer()
        self._bus = EventBus()
        self._groups: Dict[str, Group] = {}
        self._links: Dict[str, _Link] = {}
        self._by_prompt: Dict[str, Job] = {}  # prompt_id -> job, for the job's current attempt
        self._occupying: Dict[str, str] = {}  # prompt_id -> server, every prompt of ours on a server
        self._timers: List[Tuple[float, int, str, Job, str]] = []
        self._seq = itertools.count()
        self._dirty_jobs: Set[Job] = set()
        self._dirty_attempts: Dict[Tuple[str, int], Tuple[str, Attempt]] = {}
        self._dirty_groups: Set[Group] = set()
        self._tasks: List[Callable[[], None]] = []
        self._suspects: queue.SimpleQueue[str] = queue.SimpleQueue()  # pool says offline: verify
        self._verify: Set[str] = set()
        self._submitting: Dict[str, Future[None]] = {}  # prompt_id -> done when its POST returned
        self._next_poll = 0.0
        self.sweep_interval = max(5.0, 10 * poll_interval)
        self._next_sweep = time.monotonic() + self.sweep_interval
        self._executor: Optional[ThreadPoolExecutor] = None
        self._thread: Optional[threading.Thread] = None
        self._running = False
        self._unsubscribe_pool: Optional[Callable[[], None]] = None

    # ==========================================================================================
    # lifecycle
    # ==========================================================================================

    def start(self) -> None:
        """Start the dispatcher thread, the worker pool and one event stream per server."""
        if self._running:
            return
        self._running = True
        self._bus.start()
        servers = list(self.pool.servers())
        workers = self._max_workers or min(32, 4 + 3 * max(1, len(servers)))
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nuke-comfyui-net")
        with self._lock:
            links = [self._link(config.name) for config in servers if getattr(config, "enabled", True)]
            self._tasks.clear()  # streams of the first links start right here, below
        for link in links:
            self._start_stream(link)
        subscribe = getattr(self.pool, "subscribe", None)
        if subscribe is not None:
            self._unsubscribe_pool = subscribe(self._on_pool_status)
        self._thread = threading.Thread(target=self._loop, name="nuke-comfyui-dispatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop dispatching and listening; prompts already on servers keep running (see resume)."""
        if not self._running:
            return
        self._running = False
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10.0)
        if self._unsubscribe_pool is not None:
            self._unsubscribe_pool()
        for link in list(self._links.values()):
            if link.stream is not None:
                link.stream.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._flush()
        self._bus.stop()
        with self._changed:
            self._changed.notify_all()

    def __enter__(self) -> Scheduler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def subscribe(self, callback: Callable[[SchedulerEvent], None]) -> Callable[[], None]:
        """Receive JobUpdated / GroupUpdated events (on the event thread); returns unsubscribe."""
        return self._bus.subscribe(callback)

    # ==========================================================================================
    # public operations
    # ==========================================================================================

    def submit(self, request: Any) -> str:
        """Plan, journal and queue a render request; returns the group id.

        Raises WorkflowError / FrameSetError / NoCapableServer before anything is queued.
        """
        group_id = uuid.uuid4().hex
        plan = self._make_plan(request, group_id)
        return self.submit_plan(plan, group_id=group_id)

    def submit_plan(self, plan: GroupPlan, *, group_id: Optional[str] = None) -> str:
        """Queue a prepared plan (lets callers add dependencies, e.g. a combine job)."""
        group_id = group_id or uuid.uuid4().hex
        self._check_capable(plan)
        group = self._build_group(plan, group_id)
        self.journal.create_group(
            GroupRow(group_id, group.label, plan.request_json, group.output_dir, group.state.value,
                     created=group.created),
            [self._job_row(job) for job in group.jobs],
        )
        with self._lock:
            self._register(group)
        self._wake.set()
        return group_id

    def snapshot(self, group_id: str) -> GroupSnapshot:
        with self._lock:
            return self._group_snapshot(self._group(group_id))

    def groups(self) -> List[GroupProgress]:
        """The groups this scheduler runs (journaled ones from earlier runs: `journal.groups()`)."""
        with self._lock:
            return [self._progress(group) for group in self._groups.values()]

    def wait(self, group_id: str, timeout: Optional[float] = None) -> GroupSnapshot:
        """Block until the group settles (or `timeout` passes); returns its snapshot."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            group = self._group(group_id)
            while group.pending_work > 0 or (group.cancel_requested and group.active):
                left = None if deadline is None else deadline - time.monotonic()
                if (left is not None and left <= 0) or not self._running:
                    break
                self._changed.wait(0.5 if left is None else min(left, 0.5))
        self._flush()  # the journal agrees with what we return
        with self._lock:
            return self._group_snapshot(group)

    def cancel(self, group_id: str, *, wait: float = 15.0) -> None:
        """Cancel a group: drop waiting children, delete our pending prompts, interrupt running ones.

        Works for a group journaled by an earlier process too. Returns once the servers have
        been told (or `wait` seconds passed).
        """
        group_id = self._resolve(group_id)
        with self._lock:
            group = self._groups.get(group_id)
        if group is None:
            self._cancel_journaled(group_id, wait)
            return
        cleanups: Dict[str, List[str]] = {}
        with self._lock:
            group.cancel_requested = True
            pending = [self._submitting[job.prompt_id] for job in group.active
                       if job.prompt_id in self._submitting]
            for job in group.jobs:
                if job.state in (JobState.QUEUED, JobState.BLOCKED):
                    self._finish(job, JobState.CANCELLED)
                elif job.state in ACTIVE:
                    pid, server = job.prompt_id, job.server
                    assert pid is not None and server is not None
                    current = job.attempt
                    if current is not None:
                        current.finish("cancelled")
                        self._dirty_attempt(job, current)
                    self._detach(job)
                    self._finish(job, JobState.CANCELLED)
                    cleanups.setdefault(server, []).append(pid)
            self._dirty_groups.add(group)
        self._flush()
        self._run_cleanups(cleanups, wait)
        deadline = time.monotonic() + wait
        for marker in pending:  # a POST still in flight cleans its own prompt up when it lands
            try:
                marker.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                log.warning("a prompt of group %s was still being sent after %.0f s", group_id[:8], wait)
        self._wake.set()

    def retry_failed(self, group_id: str) -> int:
        """Re-queue the failed and timed-out children (same seeds); returns how many."""
        group_id = self.resume(self._resolve(group_id))  # a no-op when it runs here already
        count = 0
        with self._lock:
            group = self._group(group_id)
            group.cancel_requested = False
            for job in group.jobs:
                if job.state in (JobState.FAILED, JobState.TIMEOUT):
                    job.failures = 0
                    job.exclude = None
                    job.min_vram = None
                    job.error = None
                    job.prompt_id = None
                    self._queue_or_block(job)
                    count += 1
            self._recount_stuck(group)
            self._group_changed(group)
        self._wake.set()
        return count

    def resume(self, group_id: str) -> str:
        """Re-attach a journaled group: collect finished prompts, wait on live ones, requeue lost ones."""
        row = self.journal.group(group_id)
        if row.id in self._groups:
            return row.id
        plan = self._make_plan(row.request, row.id)  # the journaled RenderRequest JSON
        plan.output_dir = row.output_dir
        group = self._build_group(plan, row.id, created=row.created)
        attempts: Dict[str, List[AttemptRow]] = {}
        for a in self.journal.attempts_of_group(row.id):
            attempts.setdefault(a.job_id, []).append(a)
        with self._lock:
            for saved in self.journal.jobs(row.id):
                job = group.by_id.get(saved.id)
                if job is not None:
                    self._restore(job, saved, attempts.get(saved.id, []))
            self._register(group, restored=True)
        self._next_poll = 0.0
        self._wake.set()
        return row.id

    # ==========================================================================================
    # dispatcher thread
    # ==========================================================================================

    def _loop(self) -> None:
        while self._running:
            self._wake.wait(self._next_wait())
            self._wake.clear()
            if not self._running:
                break
            try:
                self._tick()
            except JournalError:
                log.exception("job journal write failed; dispatch continues without it")
            except Exception:  # the dispatcher must survive a bug in one pass
                log.exception("scheduler pass failed")

    def _next_wait(self) -> Optional[float]:
        with self._lock:
            waits = []
            if self._timers:
                waits.append(self._timers[0][0] - time.monotonic())
            if self._pollable_any():
                waits.append(self._next_poll - time.monotonic())
            if self._occupying:
                waits.append(self._next_sweep - time.monotonic())
            if self._dirty_jobs or self._tasks:
                waits.append(0.0)
        return max(0.0, min(waits)) if waits else None

    def _tick(self) -> None:
        now = time.monotonic()
        suspects = set()
        while True:
            try:
                suspects.add(self._suspects.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            self._verify |= suspects
            self._fire_timers(now)
            placed, impossible = self._dispatcher.pick()
            for job, reason in impossible:
                self._finish(job, JobState.FAILED, reason)
            submits = [self._prepare_submit(job, server, now) for job, server in placed]
            polls = self._due_polls(now)
            tasks, self._tasks = self._tasks, []
        self._flush()  # the journal knows every prompt_id before its POST
        executor = self._executor
        if executor is None:
            return
        for job, server, pid in submits:
            executor.submit(self._submit_task, job, server, pid)
        for task in tasks:
            executor.submit(task)
        for server, pids in polls:
            executor.submit(self._poll_task, server, pids)

    # ==========================================================================================
    # dispatch and submission
    # ==========================================================================================

    def _prepare_submit(self, job: Job, server: str, now: float) -> Tuple[Job, str, str]:
        link = self._link(server)
        pid = str(uuid.uuid4())
        job.move(JobState.DISPATCHED)
        job.server = server
        job.prompt_id = pid
        job.watched = link.stream_up
        job.client_id = link.client_id if link.stream_up else f"nkc-{uuid.uuid4().hex}"
        job.dispatched_at = now
        job.progress = 0.0
        current = job.new_attempt(server, pid)
        self._by_prompt[pid] = job
        self._occupying[pid] = server  # the dispatcher already counted it in in_flight
        group = job.group
        group.active.add(job)
        if group.first_dispatch is None:
            group.first_dispatch = now
        max_concurrent = int(getattr(link.config, "max_concurrent", 1) or 1)
        self._push_timer(now + self._timeout_of(job) * (max_concurrent + 1) + 2.0, "start", job, pid)
        self._submitting[pid] = Future()
        self._dirty_attempt(job, current)
        self._job_changed(job)
        return job, server, pid

    def _submit_task(self, job: Job, server: str, pid: str) -> None:
        link = self._links[server]
        plan = job.group.plan
        try:
            result = net.submit(plan, job, client=link.client, server=link.config, transfer=self._transfer,
                                prompt_id=pid, client_id=job.client_id or "")
        except (NukeComfyError, OSError, ValueError) as exc:
            with self._lock:
                self._submit_failed(job, pid, exc)
                self._posted(pid)
            self._wake.set()
            return
        with self._lock:
            current = job.attempt
            if job.prompt_id != pid or job.state not in ACTIVE:
                if job.prompt_id != pid or job.state is JobState.CANCELLED:
                    # Cancelled or pulled back while the POST was in flight: take it off the server.
                    self._tasks.append(lambda: net.cleanup(link.client, [pid]))
            elif current is not None and current.outcome == "dispatched":
                if pid not in self._occupying:  # the server was given up on while we posted
                    self._occupying[pid] = server
                    self._dispatcher.occupy(server)
                current.outcome = "submitted"
                warnings = getattr(result, "node_errors", None)
                if warnings:
                    dropped = json.dumps(warnings)[:500]
                    current.error = f"ComfyUI dropped invalid output branches: {dropped}"
                self._dirty_attempt(job, current)
            self._posted(pid)
        self._wake.set()

    def _posted(self, pid: str) -> None:
        marker = self._submitting.pop(pid, None)
        if marker is not None:
            marker.set_result(None)

    def _submit_failed(self, job: Job, pid: str, exc: BaseException) -> None:
        if job.prompt_id != pid or job.state not in ACTIVE or job.attempt is None:
            self._release(pid)
            return
        log.info("job %s: submit to %s failed: %s", job.id, job.server, exc)
        self._release(pid)
        self._apply_verdict(job, pid, classify_submit_error(exc))

    # ==========================================================================================
    # completion: events, polls, collection
    # ==========================================================================================

    def _on_stream_event(self, server: str, event: Any) -> None:
        kind = type(event).__name__
        with self._lock:
            link = self._links.get(server)
            if link is None:
                return
            if kind == "Connected":
                self._stream_connected(link, event)
            elif kind == "Disconnected":
                self._stream_lost(link)
            elif kind == "ExecutionStart":
                job = self._current(event.prompt_id)
                if job is not None and job.state is JobState.DISPATCHED:
                    self._mark_running(job)
            elif kind == "Progress":
                self._on_progress(event)
            elif kind == "ExecutionFailed":
                self._on_execution_failed(server, event.prompt_id, event.failure)
            elif kind == "PromptDone":
                self._on_prompt_done(server, event.prompt_id)
        self._wake.set()

    def _stream_connected(self, link: _Link, event: Any) -> None:
        link.stream_up = True
        link.client_id = getattr(event, "client_id", link.client_id)
        if getattr(event, "reconnect", False):
            # Nothing is replayed after a reconnect: poll what the old connection would have told us.
            self._unwatch(link.name)
            self._next_poll = 0.0

    def _stream_lost(self, link: _Link) -> None:
        link.stream_up = False
        self._unwatch(link.name)
        self._next_poll = 0.0

    def _unwatch(self, server: str) -> None:
        for pid, where in self._occupying.items():
            job = self._by_prompt.get(pid)
            if where == server and job is not None:
                job.watched = False

    def _on_progress(self, event: Any) -> None:
        job = self._current(getattr(event, "prompt_id", None))
        if job is None:
            return
        if job.state is JobState.DISPATCHED:
            self._mark_running(job)
        maximum = float(getattr(event, "max", 0) or 0)
        value = float(getattr(event, "value", 0) or 0)
        progress = min(1.0, value / maximum) if maximum > 0 else 0.0
        if abs(progress - job.progress) >= _PROGRESS_STEP or progress >= 1.0:
            job.progress = progress
            self._job_changed(job, journal=False)

    def _mark_running(self, job: Job) -> None:
        job.move(JobState.RUNNING)
        job.started_at = time.monotonic()
        current = job.attempt
        if current is not None:
            current.outcome = "running"
            self._dirty_attempt(job, current)
        assert job.prompt_id is not None
        self._push_timer(job.started_at + self._timeout_of(job), "exec", job, job.prompt_id)
        self._job_changed(job)

    def _on_execution_failed(self, server: str, pid: Optional[str], failure: Any) -> None:
        if pid is None:
            return
        job = self._current(pid)
        self._release(pid)
        if job is not None and job.state in ACTIVE:
            self._apply_verdict(job, pid, classify_execution_failure(failure))

    def _on_prompt_done(self, server: str, pid: Optional[str]) -> None:
        if pid is None:
            return
        job = self._current(pid)
        self._release(pid)
        if job is None or job.state not in ACTIVE:
            return
        current = job.attempt
        if current is None or current.outcome == "collecting":
            return
        current.outcome = "collecting"
        if job.started_at:
            key = (job.group.plan.placement or {}).get("duration_key", "")
            record = getattr(self.pool, "record_duration", None)
            if record is not None:
                record(server, key, time.monotonic() - job.started_at)
        link = self._links[server]
        self._tasks.append(lambda: self._collect_task(job, pid, link))

    def _collect_task(self, job: Job, pid: str, link: _Link) -> None:
        paths: List[str] = []
        verdict: Optional[Verdict] = None
        try:
            entry = net.read_history(link.client, pid)
            if entry is None:
                verdict = Verdict(Action.REQUEUE, "lost", f"{link.name} finished the prompt but has no "
                                  "history for it (restarted?); rendering it again")
            elif getattr(entry, "failure", None) is not None:
                verdict = classify_execution_failure(entry.failure)
            else:
                paths = net.collect(job.group.plan, job, entry, client=link.client, server=link.config)
                if not paths:
                    verdict = Verdict(Action.FAIL, "failed", "the workflow finished without writing any "
                                      "file; check its output node saves images")
        except ServerUnavailable as exc:
            verdict = lost_verdict(link.name, str(exc))
        except (NukeComfyError, OSError) as exc:
            verdict = Verdict(Action.RETRY, "failed", f"could not collect results from {link.name}: {exc}")
        with self._lock:
            if job.prompt_id != pid or job.state not in ACTIVE:
                return
            if verdict is not None:
                self._apply_verdict(job, pid, verdict)
            else:
                current = job.attempt
                if current is not None:
                    current.finish("completed")
                    self._dirty_attempt(job, current)
                self._detach(job)
                job.progress = 1.0
                self._finish(job, JobState.COMPLETED, outputs=paths)
        self._wake.set()

    def _pollable_any(self) -> bool:
        return any(self._pollable(pid) for pid in self._occupying)

    def _pollable(self, pid: str) -> bool:
        job = self._by_prompt.get(pid)
        if job is None or job.prompt_id != pid:
            return True  # a zombie: ours, given up on, maybe still occupying its server
        current = job.attempt
        return not job.watched and current is not None and current.outcome in ("submitted", "running")

    def _due_polls(self, now: float) -> List[Tuple[str, List[str]]]:
        """Prompts to ask about now: unwatched and zombie ones every poll interval; every prompt
        of ours on a server the pool reports offline; and every prompt of ours once per sweep
        interval (a safety net should an event ever go missing)."""
        sweep = bool(self._occupying) and now >= self._next_sweep
        if now < self._next_poll and not sweep and not self._verify:
            return []
        by_server: Dict[str, List[str]] = {}
        for pid, server in self._occupying.items():
            everything = sweep or server in self._verify
            if self._pollable(pid) or (everything and self._submitted(pid)):
                by_server.setdefault(server, []).append(pid)
        due = []
        for server, pids in by_server.items():
            link = self._links.get(server)
            if link is not None and not link.poll_busy:
                link.poll_busy = True
                self._verify.discard(server)
                due.append((server, pids))
        self._verify &= set(by_server)  # nothing of ours there: nothing to verify
        self._next_poll = now + self.poll_interval
        if sweep:
            self._next_sweep = now + self.sweep_interval
        return due

    def _submitted(self, pid: str) -> bool:
        job = self._current(pid)
        current = job.attempt if job is not None else None
        return current is not None and current.outcome in ("submitted", "running")

    def _poll_task(self, server: str, pids: List[str]) -> None:
        link = self._links[server]
        try:
            for pid in pids:
                state = link.client.prompt_state(pid)
                with self._lock:
                    self._apply_poll(server, pid, str(getattr(state, "value", state)))
        except ServerUnavailable as exc:
            with self._lock:
                self._server_lost(server, str(exc))
        except NukeComfyError as exc:
            log.warning("polling %s failed: %s", server, exc)
        finally:
            with self._lock:
                link.poll_busy = False
            self._wake.set()

    def _apply_poll(self, server: str, pid: str, state: str) -> None:
        if pid not in self._occupying:
            return
        job = self._current(pid)
        if job is None:  # zombie: gone once the server no longer runs or queues it
            if state not in ("pending", "running"):
                self._release(pid)
            return
        if state == "running" and job.state is JobState.DISPATCHED:
            self._mark_running(job)
        elif state in ("completed", "failed"):
            self._on_prompt_done(server, pid)
        elif state == "unknown":
            self._release(pid)
            self._apply_verdict(job, pid, Verdict(Action.REQUEUE, "lost",
                                                  f"{server} no longer knows the prompt; sending it again"),
                                exclude=False)

    # ==========================================================================================
    # failures, timeouts, lost servers
    # ==========================================================================================

    def _apply_verdict(self, job: Job, pid: str, verdict: Verdict, *, exclude: bool = True) -> None:
        server = job.server or ""
        current = job.attempt
        if current is not None and current.prompt_id == pid:
            current.finish(verdict.outcome, verdict.message)
            self._dirty_attempt(job, current)
        self._detach(job)
        if job.group.cancel_requested:
            self._finish(job, JobState.CANCELLED)
        elif verdict.action is Action.FAIL:
            self._finish(job, JobState.FAILED, verdict.message)
        elif len(job.attempts or ()) >= self._attempt_cap():
            self._finish(job, JobState.FAILED, f"gave up after {len(job.attempts or ())} attempts; last: "
                         f"{verdict.message}")
        elif verdict.action is Action.REQUEUE:
            self._requeue(job, server if exclude else None, verdict.message)
        else:
            job.failures += 1
            final = JobState.TIMEOUT if verdict.outcome == "timeout" else JobState.FAILED
            if job.failures > self.retries:
                self._finish(job, final, verdict.message)
            elif verdict.action is Action.RETRY_MORE_VRAM:
                self._retry_with_more_vram(job, server, verdict)
            else:
                self._requeue(job, server, verdict.message)
        if verdict.server_lost and server:
            self._server_lost(server, verdict.message)

    def _retry_with_more_vram(self, job: Job, server: str, verdict: Verdict) -> None:
        vram = self._vram(server)
        bigger = [s for s in self._statuses() if (getattr(s, "vram_total", None) or 0) > (vram or 0)
                  and getattr(s, "enabled", True) and s.name != server]
        if vram is None or not bigger:
            self._finish(job, JobState.FAILED, f"{verdict.message}; no server has more VRAM than {server}. "
                         "Lower the resolution or batch size, or add a bigger GPU")
            return
        job.min_vram = vram + 1
        self._requeue(job, server, verdict.message)

    def _requeue(self, job: Job, exclude: Optional[str], reason: str) -> None:
        if exclude:
            job.add_exclusion(exclude)
        job.error = None
        job.prompt_id = None
        log.info("job %s requeued: %s", job.id, reason)
        job.move(JobState.QUEUED)
        self._dispatcher.enqueue(job, front=True)
        self._job_changed(job)

    def _fire_timers(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, _, kind, job, pid = heapq.heappop(self._timers)
            if job.prompt_id != pid or job.state not in ACTIVE:
                continue
            if kind == "exec" and job.state is JobState.RUNNING:
                self._timed_out(job, pid)
            elif kind == "start" and job.state is JobState.DISPATCHED:
                self._pull_back(job, pid, f"{job.server} did not start it in time")

    def _timed_out(self, job: Job, pid: str) -> None:
        server = job.server or ""
        seconds = self._timeout_of(job)
        log.warning("job %s timed out on %s after %.1f s; interrupting prompt %s",
                    job.id, server, seconds, pid)
        self._give_up_prompt(job, pid)
        self._apply_verdict(job, pid, timeout_verdict(seconds, server))
        # The server may be stuck: take back what we queued behind the stuck prompt.
        for other_pid, where in list(self._occupying.items()):
            other = self._current(other_pid)
            if where == server and other is not None and other.state is JobState.DISPATCHED:
                self._pull_back(other, other_pid, f"{server} is stuck on a timed-out prompt")

    def _pull_back(self, job: Job, pid: str, reason: str) -> None:
        self._give_up_prompt(job, pid)
        self._apply_verdict(job, pid, Verdict(Action.REQUEUE, "pulled_back", reason))

    def _give_up_prompt(self, job: Job, pid: str) -> None:
        """Stop following a prompt but keep counting it on its server until it is really gone."""
        server = self._occupying.get(pid)
        self._by_prompt.pop(pid, None)
        if server is not None:
            link = self._links[server]
            self._tasks.append(lambda: net.cleanup(link.client, [pid]))

    def _server_lost(self, server: str, reason: str) -> None:
        """A server stopped answering: requeue everything we had there, elsewhere."""
        lost = [(pid, self._current(pid)) for pid, where in self._occupying.items() if where == server]
        if not lost:
            return
        log.warning("lost server %s (%s); requeueing %d job(s) elsewhere", server, reason, len(lost))
        for pid, job in lost:
            self._release(pid)
            current = job.attempt if job is not None else None
            submitting = current is None or current.outcome == "dispatched"  # its POST will report
            if job is not None and job.state in ACTIVE and not submitting:
                self._apply_verdict(job, pid, lost_verdict(server, reason))
        report = getattr(self.pool, "report_failure", None)
        if report is not None:
            self._tasks.append(lambda: report(server, reason))

    def _on_pool_status(self, status: Any) -> None:
        """Pool callback (poller thread): never takes our lock, only queues and wakes.

        A server the pool sees offline is not given up on blindly (one slow probe must not throw
        away running renders): its prompts are polled at once, and if that fails too it is lost.
        """
        if str(getattr(getattr(status, "state", ""), "value", getattr(status, "state", ""))) == "offline":
            self._suspects.put(status.name)
        self._wake.set()

    # ==========================================================================================
    # bookkeeping
    # ==========================================================================================

    def _finish(self, job: Job, state: JobState, error: Optional[str] = None,
                outputs: Optional[List[str]] = None) -> None:
        if job.state in ACTIVE:
            self._detach(job)
        job.move(state)
        job.error = error
        if outputs is not None:
            job.outputs = outputs
        if state is JobState.COMPLETED:
            for dependent in job.dependents or ():
                dependent.deps_left -= 1
                if dependent.deps_left == 0 and dependent.state is JobState.BLOCKED:
                    dependent.move(JobState.QUEUED)
                    dependent.error = None
                    self._dispatcher.enqueue(dependent)
                    self._job_changed(dependent)
        elif state in (JobState.FAILED, JobState.TIMEOUT):
            self._mark_stuck(job)
        self._job_changed(job)
        self._group_changed(job.group)

    def _mark_stuck(self, failed: Job) -> None:
        for dependent in failed.dependents or ():
            if dependent.state is JobState.BLOCKED and not dependent.error:
                dependent.error = f"blocked: depends on job {failed.index} which {failed.state.value}"
                dependent.group.stuck += 1
                self._job_changed(dependent)
                self._mark_stuck(dependent)

    def _recount_stuck(self, group: Group) -> None:
        for job in group.jobs:
            if job.state is JobState.BLOCKED and job.error:
                job.error = None
        group.stuck = 0
        for job in group.jobs:
            if job.state in (JobState.FAILED, JobState.TIMEOUT):
                self._mark_stuck(job)

    def _queue_or_block(self, job: Job) -> None:
        deps = [job.group.by_id[d] for d in job.depends_on if d in job.group.by_id]
        job.deps_left = sum(1 for d in deps if d.state is not JobState.COMPLETED)
        if job.deps_left:
            job.move(JobState.BLOCKED)
        else:
            job.move(JobState.QUEUED)
            self._dispatcher.enqueue(job)
        self._job_changed(job)

    def _detach(self, job: Job) -> None:
        """Forget the job's current prompt (its server slot is released separately)."""
        if job.prompt_id is not None and self._by_prompt.get(job.prompt_id) is job:
            del self._by_prompt[job.prompt_id]
        job.group.active.discard(job)
        job.watched = False

    def _release(self, pid: str) -> None:
        server = self._occupying.pop(pid, None)
        if server is not None:
            self._dispatcher.release(server)
            self._wake.set()

    def _current(self, pid: Optional[str]) -> Optional[Job]:
        job = self._by_prompt.get(pid) if pid else None
        return job if job is not None and job.prompt_id == pid else None

    def _push_timer(self, deadline: float, kind: str, job: Job, pid: str) -> None:
        heapq.heappush(self._timers, (deadline, next(self._seq), kind, job, pid))

    def _timeout_of(self, job: Job) -> float:
        return float(job.group.timeout or job.group.plan.timeout or self.job_timeout)

    def _attempt_cap(self) -> int:
        return 1 + self.retries + 2 * max(1, len(self._links))

    def _statuses(self) -> List[Any]:
        statuses = getattr(self.pool, "statuses", None)
        return list(statuses()) if statuses is not None else []

    def _vram(self, server: str) -> Optional[int]:
        for status in self._statuses():
            if status.name == server:
                return getattr(status, "vram_total", None)
        return None

    def _link(self, server: str) -> _Link:
        """Our link to a server, created on first use; its event stream starts outside the lock."""
        link = self._links.get(server)
        if link is None:
            config = next((s for s in self.pool.servers() if s.name == server), None)
            if config is None:
                raise NoCapableServer(f"server {server!r} is not configured; check the server list")
            link = self._links[server] = _Link(config, self.pool.client(server))
            if self._running:
                self._tasks.append(lambda: self._start_stream(link))
                self._wake.set()
        return link

    def _start_stream(self, link: _Link) -> None:
        """Open the server's event stream (never called with the state lock held: a stream may
        deliver its first event synchronously, and that event takes the lock)."""
        factory = self._stream_factory or _default_stream_factory()
        if factory is None or link.stream is not None or not self._running:
            return
        link.stream = factory(link.config, _Forward(self, link.name))
        link.stream.start()

    def _run_cleanups(self, cleanups: Dict[str, List[str]], wait: float) -> None:
        executor = self._executor
        futures = []
        for server, pids in cleanups.items():
            link = self._links.get(server)
            if link is None:
                continue
            if executor is None:
                net.cleanup(link.client, pids)
            else:
                futures.append(executor.submit(net.cleanup, link.client, pids))
        deadline = time.monotonic() + wait
        for future in futures:
            future.result(timeout=max(0.1, deadline - time.monotonic()))
        with self._lock:
            self._next_poll = 0.0

    def _cancel_journaled(self, group_id: str, wait: float) -> None:
        """Cancel a group this process does not run: clean its prompts off servers, mark the journal."""
        row = self.journal.group(group_id)
        cleanups: Dict[str, List[str]] = {}
        changed = []
        for job in self.journal.jobs(row.id):
            if job.state in ("completed", "failed", "timeout", "cancelled"):
                continue
            if job.state in ("dispatched", "running") and job.server and job.prompt_id:
                cleanups.setdefault(job.server, []).append(job.prompt_id)
            job.state = "cancelled"
            changed.append(job)
        clients = {name: self.pool.client(name) for name in cleanups}
        for name, pids in cleanups.items():
            net.cleanup(clients[name], pids)
        self.journal.write(jobs=changed, group_states=[(row.id, GroupState.CANCELLED.value)])

    # -- groups --------------------------------------------------------------------------------

    def _make_plan(self, request: Any, group_id: str) -> GroupPlan:
        """Plan a RenderRequest (or its journaled JSON text, on resume)."""
        factory = self._plan_factory
        if factory is None:
            from nuke_comfyui.core.scheduler.request_plan import plan_for_request

            factory = plan_for_request
        return factory(request, group_id)

    def _check_capable(self, plan: GroupPlan) -> None:
        """Raise NoCapableServer now rather than leave a group waiting forever."""
        placement = self._dispatcher.placement_for(plan)
        full = {s.name: 1 << 30 for s in self.pool.servers()}
        self.pool.choose(placement, full)

    def _build_group(self, plan: GroupPlan, group_id: str, created: Optional[float] = None) -> Group:
        group = Group(group_id, label=plan.label, output_dir=plan.output_dir, request=plan.request_json,
                      plan=plan, created=created)
        group.timeout = plan.timeout
        if plan.layout is None:
            plan.layout = OutputLayout(group_folder(plan.output_dir, plan.label, group_id), plan.label,
                                       tuple(plan.output_nodes))
        for spec in plan.specs:
            job = Job(group, spec.index, frame=spec.frame, variation=spec.variation, seed=spec.seed,
                      input_path=spec.input_path,
                      depends_on=tuple(f"{group_id}.{i}" for i in spec.depends_on))
            if job.depends_on:
                job.state = JobState.BLOCKED
            group.add(job)
        for job in group.jobs:
            for dep_id in job.depends_on:
                dep = group.by_id[dep_id]
                if dep.dependents is None:
                    dep.dependents = []
                dep.dependents.append(job)
                job.deps_left += 1
        return group

    def _register(self, group: Group, restored: bool = False) -> None:
        self._groups[group.id] = group
        self._dispatcher.add_group(group)
        for job in group.jobs:
            if job.state is JobState.QUEUED:
                self._dispatcher.enqueue(job)
        if restored:
            self._recount_stuck(group)
        self._group_changed(group)

    def _restore(self, job: Job, saved: JobRow, attempts: List[AttemptRow]) -> None:
        """Overlay a journaled job onto its freshly planned twin."""
        job.seed = saved.seed
        job.outputs = list(saved.outputs) or None
        job.error = saved.error
        job.attempts = []
        for a in attempts:
            restored = Attempt(a.n, a.server, a.prompt_id, a.started)
            restored.outcome, restored.ended, restored.error = a.outcome, a.ended, a.error
            job.attempts.append(restored)
            if a.outcome in ("failed", "timeout", "out_of_memory"):
                job.failures += 1
        state = JobState(saved.state)
        if state in (JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT, JobState.CANCELLED):
            job.group.count_move(job.state, state)
            job.state = state
            job.server, job.prompt_id = saved.server, saved.prompt_id
            if state is JobState.COMPLETED:
                for dependent in job.dependents or ():
                    dependent.deps_left -= 1
                    if dependent.deps_left == 0 and dependent.state is JobState.BLOCKED:
                        dependent.group.count_move(JobState.BLOCKED, JobState.QUEUED)
                        dependent.state = JobState.QUEUED
            return
        known = {s.name for s in self.pool.servers()}
        reattach = saved.prompt_id is not None and saved.server is not None and saved.server in known
        if state in ACTIVE and reattach and saved.prompt_id is not None and saved.server is not None:
            # Re-attach: ask the server what became of it (polled: its events went to a dead socket).
            self._link(saved.server)
            job.group.count_move(job.state, JobState.DISPATCHED)
            job.state = JobState.DISPATCHED
            job.server, job.prompt_id = saved.server, saved.prompt_id
            job.watched = False
            if not job.attempts or job.attempts[-1].prompt_id != saved.prompt_id:
                job.attempts.append(Attempt(len(job.attempts) + 1, saved.server, saved.prompt_id))
            job.attempts[-1].outcome = "submitted"
            job.dispatched_at = time.monotonic()
            self._by_prompt[saved.prompt_id] = job
            self._occupying[saved.prompt_id] = saved.server
            self._dispatcher.occupy(saved.server)
            job.group.active.add(job)
            if job.group.first_dispatch is None:
                job.group.first_dispatch = time.monotonic()
            grace = self._timeout_of(job) * 3 + 2.0
            self._push_timer(time.monotonic() + grace, "start", job, saved.prompt_id)

    def _resolve(self, group_id: str) -> str:
        """Full id of a group given its id or a unique prefix (running here, else journaled)."""
        with self._lock:
            if group_id in self._groups:
                return group_id
            matches = [gid for gid in self._groups if gid.startswith(group_id)]
        if len(matches) == 1:
            return matches[0]
        return self.journal.group(group_id).id

    def _group(self, group_id: str) -> Group:
        group = self._groups.get(group_id)
        if group is None:
            matches = [g for gid, g in self._groups.items() if gid.startswith(group_id)]
            if len(matches) == 1:
                return matches[0]
            raise KeyError(f"job group {group_id!r} is not running in this process; use resume() first")
        return group

    # -- events and journal ----------------------------------------------------------------------

    def _job_changed(self, job: Job, journal: bool = True) -> None:
        if journal:
            self._dirty_jobs.add(job)
        if self._bus.has_subscribers:
            self._bus.publish(JobUpdated(self._job_snapshot(job, with_attempts=False)))
            self._bus.publish(GroupUpdated(self._progress(job.group)))

    def _group_changed(self, group: Group) -> None:
        self._dirty_groups.add(group)
        if self._bus.has_subscribers:
            self._bus.publish(GroupUpdated(self._progress(group)))
        self._changed.notify_all()

    def _dirty_attempt(self, job: Job, attempt: Attempt) -> None:
        self._dirty_attempts[(job.id, attempt.n)] = (job.id, attempt)
        self._dirty_jobs.add(job)

    def _flush(self) -> None:
        """Write everything that changed since the last flush, in one transaction.

        Serialised by its own lock (never taken while holding the state lock), so two flushers
        can never write an older row over a newer one.
        """
        with self._flush_lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        with self._lock:
            if not (self._dirty_jobs or self._dirty_attempts or self._dirty_groups):
                return
            jobs = [self._job_row(job) for job in self._dirty_jobs]
            attempts = [AttemptRow(job_id, a.n, a.server, a.prompt_id, a.started, a.outcome, a.ended, a.error)
                        for job_id, a in self._dirty_attempts.values()]
            groups = [(g.id, g.state.value) for g in self._dirty_groups]
            self._dirty_jobs, self._dirty_attempts, self._dirty_groups = set(), {}, set()
        self.journal.write(jobs=jobs, attempts=attempts, group_states=groups)

    @staticmethod
    def _job_row(job: Job) -> JobRow:
        return JobRow(
            job.id, job.group.id, job.index, job.frame, job.variation, job.seed, job.state.value, job.server,
            job.prompt_id, len(job.attempts or ()), list(job.outputs or ()), job.error,
            list(job.depends_on),
        )

    @staticmethod
    def _job_snapshot(job: Job, with_attempts: bool = True) -> JobSnapshot:
        return JobSnapshot(
            job_id=job.id, group_id=job.group.id, index=job.index, frame=job.frame, variation=job.variation,
            seed=job.seed, state=job.state, server=job.server, prompt_id=job.prompt_id,
            attempts=len(job.attempts or ()), progress=job.progress, outputs=list(job.outputs or ()),
            error=job.error, depends_on=list(job.depends_on),
            attempt_log=[AttemptSnapshot(a.n, a.server, a.prompt_id, a.started, a.ended, a.outcome, a.error)
                         for a in (job.attempts or ())] if with_attempts else [],
        )

    @staticmethod
    def _progress(group: Group) -> GroupProgress:
        return GroupProgress(group.id, group.label, group.state, group.done, group.failed, group.total,
                             group.fraction(), group.eta())

    def _group_snapshot(self, group: Group) -> GroupSnapshot:
        return GroupSnapshot(
            group_id=group.id, label=group.label, state=group.state, output_dir=group.output_dir,
            jobs=[self._job_snapshot(job) for job in group.jobs], done=group.done, failed=group.failed,
            total=group.total, fraction=group.fraction(), eta_s=group.eta(), sequences=_sequences(group),
        )


def _sequences(group: Group) -> List[OutputSequence]:
    """One OutputSequence per variation and output file stem, from the completed children.

    The frame of each file is read back from its name (`<stem>.<frame>.<ext>`, see results.py),
    so chunks of several frames report every frame they delivered. `first`/`last` span the frames
    *requested* for that variation, so a Read node covers the whole range while frames land. A
    still (a variation rendered without frames) is a one-frame sequence: its exact path, frame 1.
    """
    found: Dict[Tuple[int, str, str], Dict[str, Any]] = {}
    for job in group.jobs:
        if job.state is not JobState.COMPLETED:
            continue
        for path in job.outputs or ():
            folder, _, name = path.replace("\\", "/").rpartition("/")
            parts = name.split(".")
            if len(parts) >= 3 and parts[-2].lstrip("-").isdigit():
                stem, frame, ext = ".".join(parts[:-2]), int(parts[-2]), "." + parts[-1]
                key = (job.variation, f"{folder}/{stem}.%04d", "." + parts[-1])
            else:  # a still: the file itself is the sequence
                stem, frame, ext = name.rsplit(".", 1)[0], 1, ""
                key = (job.variation, path, "")
            entry = found.setdefault(key, {"seed": job.seed, "frames": set(), "servers": set(), "stem": stem})
            entry["frames"].add(frame)
            if job.server:
                entry["servers"].add(job.server)
    requested = _requested_ranges(group)
    nodes = list(getattr(group.plan, "output_nodes", ()) or ())
    sequences = []
    for (variation, base, ext), entry in sorted(found.items()):
        frames = sorted(entry["frames"])
        first, last = requested.get(variation, (frames[0], frames[-1])) if ext else (1, 1)
        node = next((n for n in nodes if entry["stem"].endswith(f"_{n}")), nodes[0] if nodes else "")
        sequences.append(OutputSequence(
            variation=variation, seed=entry["seed"], output_node=node, pattern=f"{base}{ext}",
            first=min(first, frames[0]), last=max(last, frames[-1]), frames_done=frames,
            servers=sorted(entry["servers"]),
        ))
    return sequences


def _requested_ranges(group: Group) -> Dict[int, Tuple[int, int]]:
    """First and last frame asked for, per variation (from the plan, chunks included)."""
    ranges: Dict[int, Tuple[int, int]] = {}
    for spec in getattr(group.plan, "specs", ()) or ():
        frames = [f for f in (tuple(spec.frames) or (spec.frame,)) if f is not None]
        if frames:
            low, high = ranges.get(spec.variation, (min(frames), max(frames)))
            ranges[spec.variation] = (min(low, *frames), max(high, *frames))
    return ranges


def _default_placement() -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        from nuke_comfyui.core.pool import Placement

        return Placement(**kwargs)

    return make


def _default_stream_factory() -> Optional[StreamFactory]:
    try:
        from nuke_comfyui.core.comfy.events import EventStream
    except ImportError:
        return None
    factory: StreamFactory = EventStream
    return factory

