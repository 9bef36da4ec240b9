"""`Scheduler`: the facade over the parts that run job groups on a ServerPool.

Pull-based dispatch of job groups, failure handling and the journal, split into parts with one
job each (all sharing `SchedulerState`, one lock):

- `submission.py`  plans -> groups; placed jobs -> prompts on servers;
- `tracking.py`    event streams and polls -> job states; results collected;
- `recovery.py`    verdicts, retries, requeues, timeouts, lost servers;
- `lifecycle.py`   cancel, retry, resume from the journal;
- `read_models.py` snapshots, views, changes, progress and output sequences (kept up to date
                   as jobs change: group.py, sequence_book.py);
- `journal_sync.py` batched journal writes; `loop.py` the dispatcher thread and worker pool;
- `live_board.py`  what each running job is doing and its latest preview (`live`), fed by each
                   stream's `live_feed.py` only while someone watches, outside the lock.

Threads: one dispatcher thread (loop.py), a small worker pool for every network call, one
EventStream per server, and the event bus thread that delivers snapshots to subscribers.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Dict, List, Optional

from nuke_comfyui.core.comfy.preview_method import Policy
from nuke_comfyui.core.errors import JournalError
from nuke_comfyui.core.group_owners import GroupOwnedError
from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.scheduler import read_models
from nuke_comfyui.core.scheduler.cancelling import CancelReport
from nuke_comfyui.core.scheduler.dispatcher import Dispatcher
from nuke_comfyui.core.scheduler.events import GroupChanges, GroupProgress, GroupSnapshot, GroupView, SchedulerEvent
from nuke_comfyui.core.scheduler.journal_halt import JournalHalt
from nuke_comfyui.core.scheduler.journal_sync import JournalSync
from nuke_comfyui.core.scheduler.lifecycle import Lifecycle
from nuke_comfyui.core.scheduler.live_board import LiveBoard
from nuke_comfyui.core.scheduler.loop import DispatchLoop
from nuke_comfyui.core.scheduler.ownership import Ownership
from nuke_comfyui.core.scheduler.plan import GroupPlan
from nuke_comfyui.core.scheduler.recovery import Recovery
from nuke_comfyui.core.scheduler.server_prompts import OurPrompt, prompts_by_server
from nuke_comfyui.core.scheduler.stall_watch import STALL_MIN_S, StallWatch
from nuke_comfyui.core.scheduler.starvation import StarvationWatch
from nuke_comfyui.core.scheduler.state import SchedulerState
from nuke_comfyui.core.scheduler.submission import PlanFactory, Submission
from nuke_comfyui.core.scheduler.tracking import StreamFactory, Tracking

#: seconds a group waits when no server at all can take its jobs, before it fails with the reason
DEFAULT_NO_SERVER_WAIT = 60.0


class Scheduler:
    """Runs job groups on a ServerPool; see the module docstring for the parts."""

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
        no_server_wait: Optional[float] = None,
        capability_wait: float = 10.0,
        stall_min_s: Optional[float] = None,
        previews: Policy = True,
    ) -> None:
        """`previews`: whether our prompts ask for live previews: False (the CLI, headless Nuke) asks
        every server to make none, WHEN_WATCHED (a Nuke GUI) only while a panel shows them, True
        keeps each server's own setting (comfy/preview_method.py)."""
        cluster = getattr(pool, "cluster", None)
        self.pool = pool
        self.journal = journal
        timeout = float(job_timeout if job_timeout is not None else getattr(cluster, "job_timeout", 300.0))
        dispatcher = Dispatcher(pool, placement_factory or _default_placement())
        self.state = SchedulerState(
            pool, dispatcher, job_timeout=timeout,
            retries=int(retries if retries is not None else getattr(cluster, "retries", 2)),
            poll_interval=poll_interval,
        )
        self.sync = JournalSync(self.state, journal)
        self.recovery = Recovery(self.state)
        self.submission = Submission(self.state, self.recovery, plan_factory, capability_wait=capability_wait,
                                     previews=previews, watching=lambda: self.live.interest.previews)
        wait_for_servers = no_server_wait if no_server_wait is not None else \
            float(getattr(cluster, "no_server_timeout", DEFAULT_NO_SERVER_WAIT))
        state = self.state
        self.live = LiveBoard(alive=lambda job_id, pid: getattr(state.current(pid), "id", None) == job_id)
        self.tracking = Tracking(self.state, self.recovery, stream_factory, live=self.live)
        self.stalls = StallWatch(self.state, self.recovery,
                                 min_s=STALL_MIN_S if stall_min_s is None else stall_min_s)
        self.halt = JournalHalt(self.state, getattr(journal, "path", "(the journal)"))
        self.ownership = Ownership(self.state, journal, on_journal_error=self.halt.halt)
        self.sync.on_taken_over = self.ownership.abandon
        self.lifecycle = Lifecycle(self.state, journal, self.sync, self.submission, self.ownership)
        self.loop = DispatchLoop(self.state, self.sync, self.submission, tracking=self.tracking,
                                 recovery=self.recovery, ownership=self.ownership,
                                 starvation=StarvationWatch(self.state, wait_for_servers), halt=self.halt,
                                 stalls=self.stalls, max_workers=max_workers)

    @property
    def job_timeout(self) -> float:
        return self.state.job_timeout

    @property
    def retries(self) -> int:
        return self.state.retries

    @property
    def previews(self) -> Policy:
        """Whether our prompts ask for live previews: True, False, or WHEN_WATCHED (see __init__)."""
        return self.submission.previews

    # -- running ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the dispatcher thread, the worker pool and one event stream per server."""
        self.loop.start()

    def stop(self) -> None:
        """Stop dispatching and listening; prompts already on servers keep running (see resume)."""
        self.loop.stop()

    def __enter__(self) -> Scheduler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def subscribe(self, callback: Callable[[SchedulerEvent], None]) -> Callable[[], None]:
        """Receive JobUpdated / GroupUpdated events (on the event thread); returns unsubscribe."""
        return self.state.bus.subscribe(callback)

    def drain_events(self, timeout: float = 5.0) -> bool:
        """Block until every event published so far reached the subscribers (e.g. before unsubscribing)."""
        return self.state.bus.drain(timeout)

    # -- submitting ------------------------------------------------------------------------------

    def submit(self, request: Any) -> str:
        """Plan, journal and queue a render request; returns the group id.

        Raises WorkflowError / FrameSetError / NoCapableServer before anything is queued.
        """
        group_id = uuid.uuid4().hex
        plan = self.submission.make_plan(request, group_id)
        return self.submit_plan(plan, group_id=group_id)

    def submit_plan(self, plan: GroupPlan, *, group_id: Optional[str] = None) -> str:
        """Queue a prepared plan (lets callers add dependencies, e.g. a combine job)."""
        self.halt.lift(self._write_journal)  # a halted journal: written again first, or JournalError
        group_id = group_id or uuid.uuid4().hex
        self.submission.check_capable(plan)
        group = self.submission.build_group(plan, group_id)
        self.sync.create(group)
        self.ownership.claim(group_id)
        with self.state.lock:
            self.submission.register(group)
        self.state.wake.set()
        return group_id

    # -- reading ---------------------------------------------------------------------------------

    def snapshot(self, group_id: str) -> GroupSnapshot:
        """Every child of the group: O(jobs) under the lock, so for a final report or a panel's
        first load; follow progress with `summary`, `view` or `changes` instead."""
        with self.state.lock:
            return read_models.group_snapshot(self.state.group(group_id))

    def summary(self, group_id: str) -> GroupProgress:
        """The group's counters, fraction and ETA (O(1) in its size)."""
        with self.state.lock:
            return read_models.progress(self.state.group(group_id))

    def view(self, group_id: str) -> GroupView:
        """Counters, output sequences and failed children: what a node's status and Read nodes need,
        without building a snapshot of every child."""
        with self.state.lock:
            return read_models.group_view(self.state.group(group_id))

    def changes(self, group_id: str, since: int = 0) -> GroupChanges:
        """The children and sequences that changed after version `since` (a snapshot's, a view's or
        the last changes' `version`); everything when `since` is 0 or older than the group."""
        with self.state.lock:
            return read_models.group_changes(self.state.group(group_id), since)

    def listening(self) -> List[str]:
        """The servers whose event stream is connected now (a prompt sent there is followed live)."""
        with self.state.lock:
            return [name for name, link in self.state.links.items() if link.stream_up]

    def prompts_by_server(self) -> Dict[str, List[OurPrompt]]:
        """Which of our prompts each server holds now (running first); O(prompts in flight)."""
        with self.state.lock:
            return prompts_by_server(self.state)

    def groups(self) -> List[GroupProgress]:
        """The groups this scheduler runs (journaled ones from earlier runs: `journal.groups()`)."""
        with self.state.lock:
            return [read_models.progress(group) for group in self.state.groups.values()]

    @property
    def halted(self) -> Optional[str]:
        """Why this scheduler sends no new work (its journal cannot be written), or None."""
        return self.state.halted

    def lift_halt(self) -> None:
        """Write a halted journal again and send work again (retry, resume and submit do it first);
        JournalError with the notice (what failed, where to free space) while it still cannot be."""
        self.halt.lift(self._write_journal)

    def halt_message(self, group_id: str) -> Optional[str]:
        """The command line's one line for a halted journal (`nuke-comfyui resume <group>`), or None."""
        return self.halt.message(group_id) if self.state.halted is not None else None

    def settled(self, group_id: str) -> bool:
        """True once `wait(group_id)` returns or raises at once: the group settled, this process no
        longer follows it (taken over), the journal stopped it, or the scheduler stopped. O(1), so a
        caller that must also watch for Ctrl-C can poll it (cli/follow.py) instead of blocking."""
        s = self.state
        with s.lock:
            if any(gid.startswith(group_id) and gid not in s.groups for gid in s.taken_over):
                return True
            try:
                group = s.group(group_id)
            except KeyError:
                return True
            if group.released_reason is not None or not s.running:
                return True
            if s.halted is not None and not group.active:
                return True
            return not (group.pending_work > 0 or (group.cancel_requested and group.active))

    def wait(self, group_id: str, timeout: Optional[float] = None) -> GroupSnapshot:
        """Block until the group settles (or `timeout` passes); returns its snapshot.

        Raises JournalError, naming the journal's folder and the fix, when the journal could not
        be written: once nothing of the group runs any more, it cannot go further here.
        """
        s = self.state
        deadline = None if timeout is None else time.monotonic() + timeout
        with s.changed:
            for gid, owner in s.taken_over.items():
                if gid.startswith(group_id) and gid not in s.groups:
                    raise GroupOwnedError(f"group {gid[:8]} was taken over by {owner} before this process finished "
                                          "it; follow it there")
            group = s.group(group_id)
            while (group.pending_work > 0 or (group.cancel_requested and group.active)) \
                    and group.released_reason is None:
                if s.halted is not None and not group.active:
                    raise self.halt.stopped(group.id)
                left = None if deadline is None else deadline - time.monotonic()
                if (left is not None and left <= 0) or not s.running:
                    break
                s.changed.wait(0.5 if left is None else min(left, 0.5))
        try:
            self.sync.flush()  # the journal agrees with what we return
        except JournalError as exc:
            self.halt.halt(exc)
        if group.released_reason is not None:
            raise GroupOwnedError(f"group {group.id[:8]} was {group.released_reason} before this process finished "
                                  "it; follow it there")
        with s.lock:
            return read_models.group_snapshot(group)

    def _write_journal(self) -> None:
        """One real write, then every row that waits: whether a halted journal can go on (no lock held)."""
        self.journal.touch()
        self.sync.flush()

    # -- lifecycle -------------------------------------------------------------------------------

    def cancel(self, group_id: str, *, wait: float = 15.0) -> CancelReport:
        """Cancel a group: drop waiting children, delete our queued prompts, interrupt running ones.

        Works for a group another live process renders (its owner is asked through the journal
        and stops within seconds) and for one only the journal knows. Returns once the servers
        have been told (or `wait` seconds passed) with what was actually done.
        """
        return self.lifecycle.cancel(group_id, wait)

    def retry_failed(self, group_id: str, *, timeout: Optional[float] = None, strategy: Optional[str] = None,
                     force: bool = False) -> int:
        """Re-queue the failed, timed-out and cancelled children (same seeds, fresh attempt budget).

        With a halted journal (its disk was full) it is written again first, so the group's queued
        children are sent again too; JournalError (the notice) while it still cannot be written.
        """
        self.halt.lift(self._write_journal)
        return self.lifecycle.retry_failed(group_id, timeout=timeout, strategy=strategy, force=force)

    def resume(self, group_id: str, *, force: bool = False, restart_cancelled: bool = False) -> str:
        """Re-attach a journaled group: collect finished prompts, wait on live ones, requeue lost ones.

        Raises GroupOwnedError while another live process renders the group (unless `force`), and
        JournalError (the notice) while a halted journal still cannot be written.
        """
        self.halt.lift(self._write_journal)
        return self.lifecycle.resume(group_id, force=force, restart_cancelled=restart_cancelled)


def _default_placement() -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        from nuke_comfyui.core.pool import Placement

        return Placement(**kwargs)

    return make
