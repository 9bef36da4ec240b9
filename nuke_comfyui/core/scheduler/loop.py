"""The dispatch loop: one thread that wakes on change or deadline and runs one pass.

A pass fires due timers, asks the `Dispatcher` for placements, journals every change since the
last pass in one transaction (so a prompt_id is on disk BEFORE its POST), then hands network
work (submits, polls, collects, cleanups) to the worker pool, so a slow server blocks only its
own calls. The thread sleeps on the state's wake-up event and never busy-polls.

Wake-ups coalesce: every event changes state under the lock and then sets the event; the thread
clears it *before* a pass reads the state, so one pass serves every event that arrived meanwhile
and an event that lands during a pass sets it again for the next one (none is lost). A pass
costs O(events and placements since the last one), not O(jobs) or O(servers).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Optional, Set

from nuke_comfyui.core.errors import JournalError
from nuke_comfyui.core.scheduler.jobs import JobState
from nuke_comfyui.core.scheduler.journal_halt import JournalHalt
from nuke_comfyui.core.scheduler.journal_sync import JournalSync
from nuke_comfyui.core.scheduler.ownership import Ownership
from nuke_comfyui.core.scheduler.recovery import Recovery
from nuke_comfyui.core.scheduler.stall_watch import StallWatch
from nuke_comfyui.core.scheduler.starvation import StarvationWatch
from nuke_comfyui.core.scheduler.state import SchedulerState, ServerLink
from nuke_comfyui.core.scheduler.submission import Submission
from nuke_comfyui.core.scheduler.tracking import Tracking

log = logging.getLogger(__name__)

#: how long a new server link waits for its event stream before jobs go there anyway (then polled)
STREAM_GRACE_S = 3.0


class DispatchLoop:
    """Owns the dispatcher thread, the worker pool and the event streams' start and stop."""

    def __init__(self, state: SchedulerState, sync: JournalSync, submission: Submission, *,
                 tracking: Tracking, recovery: Recovery, ownership: Ownership, starvation: StarvationWatch,
                 halt: JournalHalt, stalls: StallWatch, max_workers: Optional[int] = None) -> None:
        self.state = state
        self.halt = halt
        self.stalls = stalls
        self._next_stall_check: Optional[float] = None
        self.starvation = starvation
        self._next_starve_check: Optional[float] = None
        self.ownership = ownership
        self.sync = sync
        self.submission = submission
        self.tracking = tracking
        self.recovery = recovery
        self._max_workers = max_workers
        self._thread: Optional[threading.Thread] = None
        self._unsubscribe_pool: Optional[Callable[[], None]] = None
        self._young: Dict[str, ServerLink] = {}  # links still inside their stream grace period
        self._links_seen = 0

    def start(self) -> None:
        """Start the dispatcher thread, the worker pool and one event stream per server."""
        s = self.state
        if s.running:
            return
        s.running = True
        s.bus.start()
        servers = list(s.pool.servers())
        workers = self._max_workers or min(32, 4 + 3 * max(1, len(servers)))
        s.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nuke-comfyui-net")
        with s.lock:
            links = [s.link(config.name) for config in servers if getattr(config, "enabled", True)]
            s.tasks.clear()  # streams of the first links start right here, below
        for link in links:
            self.tracking.start_stream(link)
        subscribe: Any = getattr(s.pool, "subscribe", None)
        if subscribe is not None:
            self._unsubscribe_pool = subscribe(self.recovery.on_pool_status)
        self._thread = threading.Thread(target=self._run, name="nuke-comfyui-dispatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop dispatching and listening; prompts already on servers keep running (see resume)."""
        s = self.state
        if not s.running:
            return
        s.running = False
        s.wake.set()
        if self._thread is not None:
            self._thread.join(10.0)
        if self._unsubscribe_pool is not None:
            self._unsubscribe_pool()
        for link in list(s.links.values()):
            if link.stream is not None:
                link.stream.stop()
        if s.executor is not None:
            s.executor.shutdown(wait=False, cancel_futures=True)
        try:
            self.sync.flush()
        except JournalError as exc:  # said once by the halt; resume reads what was written before
            self.halt.halt(exc)
        self.ownership.release_all()  # a stopped process owns nothing; `resume` elsewhere may take over
        s.bus.stop()
        with s.changed:
            s.changed.notify_all()

    def _run(self) -> None:
        s = self.state
        while s.running:
            s.wake.wait(self._next_wait())
            s.wake.clear()
            if not s.running:
                break
            try:
                self._tick()
            except Exception as exc:  # the dispatcher must survive a bug in one pass
                if not s.running:  # stopped mid-pass (stop() gave up waiting): its executor is gone, nothing to send
                    break
                if isinstance(exc, RuntimeError) and _interpreter_exiting(exc):  # exiting mid-render:
                    log.debug("scheduler loop ends: the interpreter is exiting")  # `resume` picks it up
                    break
                log.exception("scheduler pass failed")

    def _next_wait(self) -> Optional[float]:
        s = self.state
        with s.lock:
            waits = []
            if s.timers:
                waits.append(s.timers[0][0] - time.monotonic())
            if s.occupying:  # polls are due then (due_polls moves next_poll on at least that far);
                # asking tracking.pollable_any() here would read every prompt of ours on every pass
                waits.append(s.next_poll - time.monotonic())
            if s.occupying:
                waits.append(s.next_sweep - time.monotonic())
            if (s.dirty_jobs and s.halted is None) or s.tasks or s.settled:  # halted: no retry per pass
                waits.append(0.0)
            if s.groups:
                waits.append(self.ownership.next_beat - time.monotonic())
            if s.dispatcher.unready:
                waits.append(min(s.links[n].created for n in s.dispatcher.unready if n in s.links)
                             + STREAM_GRACE_S - time.monotonic())
            if s.suspect_until:
                waits.append(min(s.suspect_until.values()) - time.monotonic())
            for check in (self._next_starve_check, self._next_stall_check):
                if check is not None:
                    waits.append(check - time.monotonic())
        return max(0.0, min(waits)) if waits else None

    def _unready(self, now: float) -> Set[str]:
        """Servers whose new link still waits for its event stream (under the lock), reading only the
        links younger than the grace period rather than every link on every pass."""
        links = self.state.links
        if len(links) != self._links_seen:  # links are only ever added
            self._links_seen = len(links)
            self._young = {name: link for name, link in links.items() if now - link.created < STREAM_GRACE_S}
        for name, link in list(self._young.items()):
            if now - link.created >= STREAM_GRACE_S:
                del self._young[name]
        return {name for name, link in self._young.items() if not link.stream_up}

    def _tick(self) -> None:
        s = self.state
        now = time.monotonic()
        suspects = set()
        while True:
            try:
                suspects.add(s.suspects.get_nowait())
            except queue.Empty:
                break
        with s.lock:
            s.verify |= suspects
            s.expire_suspects(now)
            s.dispatcher.unready = self._unready(now)
            self.recovery.fire_timers(now)
            self._next_stall_check = self.stalls.check(now)
            placed, impossible = s.dispatcher.pick() if s.halted is None else ([], [])
            for job, reason in impossible:
                s.finish(job, JobState.FAILED, reason)
            self._next_starve_check = self.starvation.check(now) if s.halted is None else None
            submits = [self.submission.prepare(job, server, now) for job, server in placed]
            polls = self.tracking.due_polls(now)
            tasks, s.tasks = s.tasks, []
            settled = self.ownership.take_settled()
            beat = bool(s.groups) and self.ownership.due(now)
        try:
            self.sync.flush()  # the journal knows every prompt_id before its POST
        except JournalError as exc:  # ... or the POST never happens: this render sends nothing more
            self.halt.halt(exc)
            with s.lock:
                self.halt.unsend(submits)
            submits = []
        if submits:
            with s.lock:  # a group taken over by another process while we flushed: send none of it
                submits = [(job, server, pid) for job, server, pid in submits
                           if job.group.released_reason is None and job.prompt_id == pid]
        executor = s.executor
        if executor is None:
            return
        if settled:
            executor.submit(self.ownership.release, settled)
        if beat:
            executor.submit(self.ownership.beat)
        for job, server, pid in submits:
            executor.submit(self.submission.send, job, server, pid)
        for task in tasks:
            executor.submit(task)
        for server, pids in polls:
            executor.submit(self.tracking.poll_task, server, pids)


def _interpreter_exiting(exc: RuntimeError) -> bool:
    """Did an executor refuse work because Python is exiting? concurrent.futures refuses every
    submit once its exit hook ran (CPython's thread.py: "cannot schedule new futures after
    interpreter shutdown"), which happens while our daemon loop may still be in a pass."""
    return "interpreter shutdown" in str(exc)
