"""Recovery: failure verdicts, retries and requeues, timeouts, pulled-back and lost servers.

Everything that happens when an attempt does not end in files: the verdict (from failures.py)
decides between failing the job, retrying it elsewhere (with a VRAM floor after an
out-of-memory), or requeueing it without charging the retry budget; timers catch prompts that
never start or never end; a lost server gives all its prompts back. Runs under the state lock.
"""

from __future__ import annotations

import heapq
import logging
import time
from typing import Any, Optional

from nuke_comfyui.core.scheduler import attempt as net
from nuke_comfyui.core.scheduler.failures import Action, Verdict, lost_verdict, timeout_verdict
from nuke_comfyui.core.scheduler.jobs import ACTIVE, Job, JobState
from nuke_comfyui.core.scheduler.state import SchedulerState

log = logging.getLogger(__name__)


class Recovery:
    """Turns failed, timed-out and lost attempts into retries, requeues or final failures."""

    def __init__(self, state: SchedulerState) -> None:
        self.state = state

    # -- verdicts --------------------------------------------------------------------------------

    def apply_verdict(self, job: Job, pid: str, verdict: Verdict, *, exclude: bool = True,
                      report_lost: bool = True) -> None:
        s = self.state
        server = job.server or ""
        current = job.attempt
        if current is not None and current.prompt_id == pid:
            current.finish(verdict.outcome, verdict.message)
            s.dirty_attempt(job, current)
        s.detach(job)
        if not job.group.cancel_requested and verdict.action is Action.REQUEUE and \
                s.cancelled_elsewhere(job.group.id):
            # Interrupted or deleted by `cancel` in another process: stop, never resubmit.
            self._cancelled_elsewhere(job.group)
        tried = len(job.attempts or ()) - job.budget_start
        if job.group.cancel_requested:
            s.finish(job, JobState.CANCELLED)
        elif verdict.action is Action.FAIL:
            s.finish(job, JobState.FAILED, verdict.message)
        elif tried >= self.attempt_cap():
            s.finish(job, JobState.FAILED, f"gave up after {tried} attempts; last: {verdict.message}")
        elif verdict.action is Action.REQUEUE:
            self.requeue(job, server if exclude else None, verdict.message)
        else:
            job.failures += 1
            final = JobState.TIMEOUT if verdict.outcome == "timeout" else JobState.FAILED
            if job.failures > s.retries:
                s.finish(job, final, verdict.message)
            elif verdict.action is Action.RETRY_MORE_VRAM:
                self._retry_with_more_vram(job, server, verdict)
            else:
                self.requeue(job, server, verdict.message)
        if verdict.server_lost and server and report_lost:
            self.server_lost(server, verdict.message)

    def _cancelled_elsewhere(self, group: Any) -> None:
        s = self.state
        log.warning("group %s was cancelled from another process; stopping it here", group.id[:8])
        group.cancel_requested = True
        cancel = s.cancel_group
        if cancel is not None:
            s.tasks.append(lambda: cancel(group.id))

    def attempt_cap(self) -> int:
        return 1 + self.state.retries + 2 * max(1, len(self.state.links))

    def _retry_with_more_vram(self, job: Job, server: str, verdict: Verdict) -> None:
        s = self.state
        vram = self._vram(server)
        bigger = [st for st in s.statuses() if (getattr(st, "vram_total", None) or 0) > (vram or 0)
                  and getattr(st, "enabled", True) and st.name != server]
        if vram is None or not bigger:
            parts = _smaller_parts(job)
            if parts:  # the artist allowed it: the same chunk, as smaller batches in one prompt
                self.requeue(job, None, f"{verdict.message}; retrying the chunk as {parts} smaller batches")
                return
            s.finish(job, JobState.FAILED, f"{verdict.message}; no server has more VRAM than {server}. "
                     "Lower the resolution, the batch size or the frames per chunk, or add a bigger GPU")
            return
        job.min_vram = vram + 1
        self.requeue(job, server, verdict.message)

    def _vram(self, server: str) -> Optional[int]:
        for status in self.state.statuses():
            if status.name == server:
                return getattr(status, "vram_total", None)
        return None

    def requeue(self, job: Job, exclude: Optional[str], reason: str) -> None:
        if exclude:
            job.add_exclusion(exclude)
        job.error = None
        job.prompt_id = None
        log.info("job %s requeued: %s", job.id, reason)
        job.move(JobState.QUEUED)
        self.state.dispatcher.enqueue(job, front=True)
        self.state.job_changed(job)

    # -- timers ----------------------------------------------------------------------------------

    def fire_timers(self, now: float) -> None:
        timers = self.state.timers
        while timers and timers[0][0] <= now:
            _, _, kind, job, pid = heapq.heappop(timers)
            if job.prompt_id != pid or job.state not in ACTIVE:
                continue
            if kind == "exec" and job.state is JobState.RUNNING:
                self._timed_out(job, pid)
            elif kind == "start" and job.state is JobState.DISPATCHED:
                self.pull_back(job, pid, f"{job.server} did not start it in time")

    def _timed_out(self, job: Job, pid: str) -> None:
        s = self.state
        server = job.server or ""
        seconds = s.timeout_of(job)
        log.warning("job %s timed out on %s after %.1f s; interrupting prompt %s; no new work goes "
                    "there until it shows progress", job.id, server, seconds, pid)
        if server:
            s.suspect(server, time.monotonic())
        self.give_up_prompt(job, pid)
        self.apply_verdict(job, pid, timeout_verdict(seconds, server))
        # The server may be stuck: take back what we queued behind the stuck prompt.
        for other_pid, where in list(s.occupying.items()):
            other = s.current(other_pid)
            if where == server and other is not None and other.state is JobState.DISPATCHED:
                self.pull_back(other, other_pid, f"{server} is stuck on a timed-out prompt")

    def pull_back(self, job: Job, pid: str, reason: str) -> None:
        self.give_up_prompt(job, pid)
        self.apply_verdict(job, pid, Verdict(Action.REQUEUE, "pulled_back", reason))

    def give_up_prompt(self, job: Job, pid: str) -> None:
        """Stop following a prompt but keep counting it on its server until it is really gone."""
        s = self.state
        server = s.occupying.get(pid)
        s.by_prompt.pop(pid, None)
        if server is not None:
            link = s.links[server]
            s.tasks.append(lambda: net.cleanup(link.client, [pid]))

    # -- lost servers ----------------------------------------------------------------------------

    def server_lost(self, server: str, reason: str) -> None:
        """A server stopped answering: requeue everything we had there, elsewhere."""
        s = self.state
        lost = [(pid, s.current(pid)) for pid, where in s.occupying.items() if where == server]
        if not lost:
            return
        prefix = f"lost server {server}: "
        reason = reason[len(prefix):] if reason.startswith(prefix) else reason  # never "lost ... (lost ...)"
        requeued = 0
        for pid, job in lost:
            s.release(pid)
            current = job.attempt if job is not None else None
            submitting = current is None or current.outcome == "dispatched"  # its POST will report
            if job is not None and job.state in ACTIVE and not submitting:
                self.apply_verdict(job, pid, lost_verdict(server, reason), report_lost=False)
                requeued += 1
        report = getattr(s.pool, "report_failure", None)
        if report is not None:
            # Now, under the lock, not as a task after the next dispatch pass: that pass would still
            # see the server online, with the slots just freed, and send it work 1-6 ms after this.
            report(server, reason)
        if requeued:
            log.warning("lost server %s: %s; %d job(s) of ours there go elsewhere", server, reason, requeued)
        else:
            log.info("lost server %s: %s", server, reason)

    def on_pool_status(self, status: Any) -> None:
        """Pool callback (poller thread): never takes the lock, only queues and wakes.

        A server the pool sees offline is not given up on blindly (one slow probe must not throw
        away running renders): its prompts are polled at once, and if that fails too it is lost.
        """
        if str(getattr(getattr(status, "state", ""), "value", getattr(status, "state", ""))) == "offline":
            self.state.suspects.put(status.name)
        self.state.wake.set()


def _smaller_parts(job: Job) -> int:
    """How many parts a frame-batch chunk that just ran out of memory is sent as next (0: it may
    not be split, or cannot be cut smaller). core/chunk_split.py."""
    from nuke_comfyui.core import chunk_split

    plan = job.group.plan
    batch = getattr(plan, "batch", None)
    if batch is None or not batch.split_on_oom or job.index >= len(plan.specs):
        return 0
    level = chunk_split.split_level(job.attempts or ())
    pieces = batch.parts(plan.specs[job.index].frames, job.attempts or ())
    return len(pieces) if pieces is not None and level > 0 else 0
