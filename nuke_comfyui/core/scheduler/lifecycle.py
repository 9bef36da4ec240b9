"""Lifecycle of a group after submission: cancel, retry the failed children, resume from the journal.

`resume` rebuilds a journaled group from its RenderRequest and overlays what the journal knows
(finished children, attempts, prompts still on servers to re-attach to). `cancel` works both for
groups running here and for groups only the journal knows.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Dict, List

from nuke_comfyui.core.journal import AttemptRow, JobRow, Journal
from nuke_comfyui.core.scheduler import attempt as net
from nuke_comfyui.core.scheduler.group import GroupState
from nuke_comfyui.core.scheduler.jobs import ACTIVE, Attempt, Job, JobState
from nuke_comfyui.core.scheduler.journal_sync import JournalSync
from nuke_comfyui.core.scheduler.state import SchedulerState
from nuke_comfyui.core.scheduler.submission import Submission

log = logging.getLogger(__name__)


class Lifecycle:
    """Cancel, retry and resume of groups (live here or journaled by another run)."""

    def __init__(self, state: SchedulerState, journal: Journal, sync: JournalSync,
                 submission: Submission) -> None:
        self.state = state
        self.journal = journal
        self.sync = sync
        self.submission = submission

    # -- cancel ----------------------------------------------------------------------------------

    def cancel(self, group_id: str, wait: float) -> None:
        """Drop waiting children, delete our pending prompts, interrupt running ones."""
        s = self.state
        group_id = self.resolve(group_id)
        with s.lock:
            group = s.groups.get(group_id)
        if group is None:
            self._cancel_journaled(group_id)
            return
        cleanups: Dict[str, List[str]] = {}
        with s.lock:
            group.cancel_requested = True
            pending = [s.submitting[job.prompt_id] for job in group.active if job.prompt_id in s.submitting]
            for job in group.jobs:
                if job.state in (JobState.QUEUED, JobState.BLOCKED):
                    s.finish(job, JobState.CANCELLED)
                elif job.state in ACTIVE:
                    pid, server = job.prompt_id, job.server
                    assert pid is not None and server is not None
                    current = job.attempt
                    if current is not None:
                        current.finish("cancelled")
                        s.dirty_attempt(job, current)
                    s.detach(job)
                    s.finish(job, JobState.CANCELLED)
                    cleanups.setdefault(server, []).append(pid)
            s.dirty_groups.add(group)
        self.sync.flush()
        self._run_cleanups(cleanups, wait)
        deadline = time.monotonic() + wait
        for marker in pending:  # a POST still in flight cleans its own prompt up when it lands
            try:
                marker.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                log.warning("a prompt of group %s was still being sent after %.0f s", group_id[:8], wait)
        s.wake.set()

    def _run_cleanups(self, cleanups: Dict[str, List[str]], wait: float) -> None:
        s = self.state
        executor = s.executor
        futures = []
        for server, pids in cleanups.items():
            link = s.links.get(server)
            if link is None:
                continue
            if executor is None:
                net.cleanup(link.client, pids)
            else:
                futures.append(executor.submit(net.cleanup, link.client, pids))
        deadline = time.monotonic() + wait
        for future in futures:
            future.result(timeout=max(0.1, deadline - time.monotonic()))
        with s.lock:
            s.next_poll = 0.0

    def _cancel_journaled(self, group_id: str) -> None:
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
        clients = {name: self.state.pool.client(name) for name in cleanups}
        for name, pids in cleanups.items():
            net.cleanup(clients[name], pids)
        self.journal.write(jobs=changed, group_states=[(row.id, GroupState.CANCELLED.value)])

    # -- retry -----------------------------------------------------------------------------------

    def retry_failed(self, group_id: str) -> int:
        """Re-queue the failed and timed-out children (same seeds); returns how many."""
        s = self.state
        group_id = self.resume(self.resolve(group_id))  # a no-op when it runs here already
        count = 0
        with s.lock:
            group = s.group(group_id)
            group.cancel_requested = False
            for job in group.jobs:
                if job.state in (JobState.FAILED, JobState.TIMEOUT):
                    job.failures = 0
                    job.exclude = None
                    job.min_vram = None
                    job.error = None
                    job.prompt_id = None
                    s.queue_or_block(job)
                    count += 1
            s.recount_stuck(group)
            s.group_changed(group)
        s.wake.set()
        return count

    # -- resume ----------------------------------------------------------------------------------

    def resume(self, group_id: str) -> str:
        """Re-attach a journaled group: collect finished prompts, wait on live ones, requeue lost ones."""
        s = self.state
        row = self.journal.group(group_id)
        if row.id in s.groups:
            return row.id
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
        known = {c.name for c in s.pool.servers()}
        reattach = saved.prompt_id is not None and saved.server is not None and saved.server in known
        if state in ACTIVE and reattach and saved.prompt_id is not None and saved.server is not None:
            # Re-attach: ask the server what became of it (polled: its events went to a dead socket).
            s.link(saved.server)
            job.group.count_move(job.state, JobState.DISPATCHED)
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
