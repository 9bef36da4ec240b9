"""Lifecycle of a group after submission: cancel, retry, resume from the journal.

`resume` rebuilds a journaled group from its RenderRequest and overlays what the journal knows
(finished children, attempts, prompts still on servers to re-attach to). `cancel` works for
groups running here, for groups another live process renders (it asks the owner through the
journal and waits for it to confirm) and for groups only the journal knows. A cancelled group
is not a dead end: `retry` (or `resume` with `restart_cancelled`) queues its cancelled children
again, each retried child with a fresh attempt budget.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Dict, List, Optional, Tuple

from nuke_comfyui.core.group_owners import HEARTBEAT_S
from nuke_comfyui.core.journal import AttemptRow, JobRow, Journal
from nuke_comfyui.core.scheduler.cancelling import CancelReport, cancel_prompts
from nuke_comfyui.core.scheduler.group import GROUP_FINAL, Group, GroupState
from nuke_comfyui.core.scheduler.jobs import ACTIVE, Attempt, Job, JobState
from nuke_comfyui.core.scheduler.journal_sync import JournalSync
from nuke_comfyui.core.scheduler.ownership import Ownership
from nuke_comfyui.core.scheduler.state import SchedulerState
from nuke_comfyui.core.scheduler.submission import Submission

log = logging.getLogger(__name__)

FINAL_GROUP_STATES = {state.value for state in GROUP_FINAL}


class Lifecycle:
    """Cancel, retry and resume of groups (live here or journaled by another run)."""

    def __init__(self, state: SchedulerState, journal: Journal, sync: JournalSync,
                 submission: Submission, ownership: Ownership) -> None:
        self.state = state
        self.journal = journal
        self.sync = sync
        self.submission = submission
        self.ownership = ownership
        state.cancel_group = lambda group_id: self.cancel(group_id, 15.0)

    # -- cancel ----------------------------------------------------------------------------------

    def cancel(self, group_id: str, wait: float) -> CancelReport:
        """Drop waiting children, delete our queued prompts, interrupt running ones; report it all."""
        s = self.state
        group_id = self.resolve(group_id)
        with s.lock:
            group = s.groups.get(group_id)
        if group is None:
            return self._cancel_elsewhere(group_id, wait)
        report = CancelReport(group_id)
        cleanups: Dict[str, List[str]] = {}
        with s.lock:
            if group.pending_work == 0 and not group.active:
                report.already_final = True
                return report
            group.cancel_requested = True
            pending = [s.submitting[job.prompt_id] for job in group.active if job.prompt_id in s.submitting]
            for job in group.jobs:
                if job.state in (JobState.QUEUED, JobState.BLOCKED):
                    s.finish(job, JobState.CANCELLED)
                    report.jobs_cancelled += 1
                elif job.state in ACTIVE:
                    pid, server = job.prompt_id, job.server
                    assert pid is not None and server is not None
                    current = job.attempt
                    if current is not None:
                        current.finish("cancelled")
                        s.dirty_attempt(job, current)
                    s.detach(job)
                    s.finish(job, JobState.CANCELLED)
                    report.jobs_cancelled += 1
                    cleanups.setdefault(server, []).append(pid)
            s.dirty_groups.add(group)
        self.sync.flush()
        self._run_cleanups(cleanups, wait, report)
        deadline = time.monotonic() + wait
        for marker in pending:  # a POST still in flight cleans its own prompt up when it lands
            try:
                marker.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                log.warning("a prompt of group %s was still being sent after %.0f s", group_id[:8], wait)
        s.wake.set()
        return report

    def _run_cleanups(self, cleanups: Dict[str, List[str]], wait: float, report: CancelReport) -> None:
        s = self.state
        executor = s.executor
        futures = []
        for server, pids in cleanups.items():
            link = s.links.get(server)
            if link is None:
                continue
            if executor is None:
                report.add(cancel_prompts(link.client, server, pids, report.group_id))
            else:
                futures.append((server, executor.submit(cancel_prompts, link.client, server, pids,
                                                        report.group_id)))
        deadline = time.monotonic() + wait
        for server, future in futures:
            try:
                report.add(future.result(timeout=max(0.1, deadline - time.monotonic())))
            except FutureTimeout:
                report.unreachable[server] = f"no answer within {wait:.0f} s"
        with s.lock:
            s.next_poll = 0.0

    def _cancel_elsewhere(self, group_id: str, wait: float) -> CancelReport:
        """Cancel a group this process does not run: tell its owner (if any), clean its prompts off
        the servers, and mark the journal (or let the live owner do that, and wait for it)."""
        row = self.journal.group(group_id)
        report = CancelReport(row.id)
        open_jobs = [job for job in self.journal.jobs(row.id)
                     if job.state not in ("completed", "failed", "timeout", "cancelled")]
        if not open_jobs:
            report.already_final = True
            return report
        owner = self.ownership.owners.request_cancel(row.id)
        live_owner = owner is not None and not owner.is_me and owner.alive()
        cleanups: Dict[str, List[str]] = {}
        for job in open_jobs:
            if job.state in ("dispatched", "running") and job.server and job.prompt_id:
                cleanups.setdefault(job.server, []).append(job.prompt_id)
        known = {c.name for c in self.state.pool.servers()}
        for name, pids in cleanups.items():
            if name not in known:
                report.unreachable[name] = "not in the server list any more"
                continue
            report.add(cancel_prompts(self.state.pool.client(name), name, pids, row.id))
        report.jobs_cancelled = len(open_jobs)
        if live_owner and owner is not None:
            report.owner = owner.describe()
            report.confirmed = self._wait_for_owner(row.id, wait)
            return report
        for job in open_jobs:
            job.state = "cancelled"
        self.journal.write(jobs=open_jobs, group_states=[(row.id, GroupState.CANCELLED.value)])
        return report

    def _wait_for_owner(self, group_id: str, wait: float) -> bool:
        """Whether the owning process marked the group final (or died) within `wait` seconds."""
        deadline = time.monotonic() + max(wait, HEARTBEAT_S * 3)
        while time.monotonic() < deadline:
            if self.journal.group(group_id).state in FINAL_GROUP_STATES:
                return True
            owner = self.ownership.owner(group_id)
            if owner is None or not owner.alive():
                return False
            time.sleep(0.2)
        return False

    # -- retry -----------------------------------------------------------------------------------

    def retry_failed(self, group_id: str, *, timeout: Optional[float] = None, strategy: Optional[str] = None,
                     force: bool = False) -> int:
        """Re-queue the failed, timed-out and cancelled children (same seeds, a fresh attempt budget,
        optionally a new timeout or server strategy); returns how many."""
        s = self.state
        group_id = self.resume(self.resolve(group_id), force=force)  # a no-op when it runs here already
        count = 0
        with s.lock:
            group = s.group(group_id)
            group.cancel_requested = False
            if timeout is not None:
                group.timeout = timeout
            if strategy is not None:
                group.plan.placement = dict(group.plan.placement or {}, strategy=strategy)
                s.dispatcher.forget_placement(group_id)
            count = self._requeue(group, (JobState.FAILED, JobState.TIMEOUT, JobState.CANCELLED))
        s.wake.set()
        return count

    def _requeue(self, group: Group, states: Tuple[JobState, ...]) -> int:
        """Queue these children again with a fresh budget (under the lock); returns how many."""
        s = self.state
        count = 0
        for job in group.jobs:
            if job.state in states:
                job.failures = 0
                job.budget_start = len(job.attempts or ())
                job.exclude = None
                job.min_vram = None
                job.error = None
                job.prompt_id = None
                s.queue_or_block(job)
                count += 1
        if count:
            group.released_reason = None
            self.ownership.reopen(group.id)
            s.dispatcher.add_group(group)
        s.recount_stuck(group)
        s.group_changed(group)
        return count

    # -- resume ----------------------------------------------------------------------------------

    def resume(self, group_id: str, *, force: bool = False, restart_cancelled: bool = False) -> str:
        """Re-attach a journaled group: collect finished prompts, wait on live ones, requeue lost ones.

        Refuses (GroupOwnedError) a group another live process renders, unless `force`. With
        `restart_cancelled` the cancelled children are queued again, so a cancelled group can be
        finished.
        """
        s = self.state
        row = self.journal.group(group_id)
        with s.lock:
            live = s.groups.get(row.id)
        if live is not None:
            self.ownership.claim(row.id, force=force)
            if restart_cancelled:
                with s.lock:
                    live.cancel_requested = False
                    self._requeue(live, (JobState.CANCELLED,))
                s.wake.set()
            return row.id
        self.ownership.claim(row.id, force=force)
        plan = self.submission.make_plan(row.request, row.id)  # the journaled RenderRequest JSON
        plan.output_dir = row.output_dir
        group = self.submission.build_group(plan, row.id, created=row.created)
        attempts: Dict[str, List[AttemptRow]] = {}
        for a in self.journal.attempts_of_group(row.id):
            attempts.setdefault(a.job_id, []).append(a)
        with s.lock:
            for saved in self.journal.jobs(row.id):
                job = group.by_id.get(saved.id)
                if job is not None:
                    self._restore(job, saved, attempts.get(saved.id, []))
            self.submission.register(group, restored=True)
            if restart_cancelled:
                self._requeue(group, (JobState.CANCELLED,))
            s.next_poll = 0.0
        s.wake.set()
        return row.id

    def _restore(self, job: Job, saved: JobRow, attempts: List[AttemptRow]) -> None:
        """Overlay a journaled job onto its freshly planned twin."""
        s = self.state
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
            job.group.count_move(job.state, state, job)
            job.state = state
            job.server, job.prompt_id = saved.server, saved.prompt_id
            if state is JobState.COMPLETED:
                for dependent in job.dependents or ():
                    dependent.deps_left -= 1
                    if dependent.deps_left == 0 and dependent.state is JobState.BLOCKED:
                        dependent.group.count_move(JobState.BLOCKED, JobState.QUEUED, dependent)
                        dependent.state = JobState.QUEUED
            return
        known = {c.name for c in s.pool.servers()}
        reattach = saved.prompt_id is not None and saved.server is not None and saved.server in known
        if state in ACTIVE and reattach and saved.prompt_id is not None and saved.server is not None:
            # Re-attach: ask the server what became of it (polled: its events went to a dead socket).
            s.link(saved.server)
            job.group.count_move(job.state, JobState.DISPATCHED, job)
            job.state = JobState.DISPATCHED
            job.server, job.prompt_id = saved.server, saved.prompt_id
            job.watched = False
            if not job.attempts or job.attempts[-1].prompt_id != saved.prompt_id:
                job.attempts.append(Attempt(len(job.attempts) + 1, saved.server, saved.prompt_id))
            job.attempts[-1].outcome = "submitted"
            job.dispatched_at = time.monotonic()
            s.by_prompt[saved.prompt_id] = job
            s.occupying[saved.prompt_id] = saved.server
            s.dispatcher.occupy(saved.server)
            job.group.active.add(job)
            if job.group.first_dispatch is None:
                job.group.first_dispatch = time.monotonic()
            grace = s.timeout_of(job) * 3 + 2.0
            s.push_timer(time.monotonic() + grace, "start", job, saved.prompt_id)

    def resolve(self, group_id: str) -> str:
        """Full id of a group given its id or a unique prefix (running here, else journaled)."""
        s = self.state
        with s.lock:
            if group_id in s.groups:
                return group_id
            matches = [gid for gid in s.groups if gid.startswith(group_id)]
        if len(matches) == 1:
            return matches[0]
        return self.journal.group(group_id).id
