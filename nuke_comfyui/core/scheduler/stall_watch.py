"""Stalled servers: a prompt that shows no progress while other servers sit idle goes elsewhere.

Why: the job timeout (300 s by default) must allow for slow workflows, so a server that hangs
mid-prompt held the end of a render for the whole timeout — 298 of 300 frames were done in 3 s
and the render waited 300 s for the last two. A timeout cannot know better; the other servers
can: once they have run this workflow, a prompt that has been silent many times longer than it
takes them is stuck, not slow.

So, at the tail of a render (no job of ours waits for a server), a prompt of ours whose server
has told us nothing about our prompts for `factor` times the longest duration the other servers
have learned for the workflow (at least `min_s`, at most half the job timeout) is re-queued
elsewhere as soon as another server that may run it is idle. It is then cancelled on the stalled
server by id (delete if pending, targeted interrupt if running: safe_removal.py), and the server
gets no new work until it moves again (the suspect list). Exactly once: the old prompt is no
longer the job's current attempt, so a late success there is a zombie whose results are never
collected (tracking.py), and the attempt is journaled as `stalled`. The server is reported as
stalled (stall_report.py): a note on its pool status until a prompt of ours moves there again, and
the render's summary from the attempts.

Only servers whose event stream is up are judged (silence on a dead stream means nothing), only
when some duration is known (nothing to learn from yet), and only when that bound is at most half
the job timeout: otherwise the timeout (a timed-out prompt is interrupted and retried) is as quick.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Set

from nuke_comfyui.core.scheduler.failures import Action, Verdict
from nuke_comfyui.core.scheduler.jobs import ACTIVE, Job
from nuke_comfyui.core.scheduler.recovery import Recovery
from nuke_comfyui.core.scheduler.stall_report import STALLED, attempt_reason, pool_note
from nuke_comfyui.core.scheduler.starvation import has_waiting
from nuke_comfyui.core.scheduler.state import SchedulerState

log = logging.getLogger(__name__)

#: a prompt silent this many times the other servers' learned duration is stalled ...
STALL_FACTOR = 4.0
#: ... but never before this many seconds (a model load on a cold server takes a while)
STALL_MIN_S = 15.0
#: how often the watch looks (under the scheduler lock, and only at a render's tail)
LOOK_EVERY_S = 0.5
USABLE = ("online", "busy")


class StallWatch:
    """Finds prompts stuck on a server while others are idle, and moves them."""

    def __init__(self, state: SchedulerState, recovery: Recovery, *, min_s: float = STALL_MIN_S,
                 factor: float = STALL_FACTOR) -> None:
        self.state = state
        self.recovery = recovery
        self.min_s = min_s
        self.factor = factor
        self.stalled: Dict[str, int] = {}  # server -> prompts moved away from it (reports read this)

    def check(self, now: float) -> Optional[float]:
        """Under the lock, each dispatch pass: returns when to look again (None: nothing to watch)."""
        s = self.state
        if not s.occupying or s.halted is not None:
            return None
        if s.stall_next_look > now:
            return s.stall_next_look
        s.stall_next_look = now + LOOK_EVERY_S
        if any(has_waiting(group) for group in s.dispatcher.groups.values()):
            return s.stall_next_look  # not the tail: idle servers will get those jobs instead
        idle = self._idle_servers()
        if not idle:
            return s.stall_next_look
        for group in list(s.groups.values()):
            if group.cancel_requested:
                continue
            for job in list(group.active):
                self._judge(job, now, idle)
        return s.stall_next_look

    def _idle_servers(self) -> Set[str]:
        """Enabled, usable servers with no prompt of ours and not suspect or still connecting."""
        s = self.state
        held = s.dispatcher.blocked | s.dispatcher.unready
        return {st.name for st in s.statuses() if getattr(st, "enabled", True) and _state(st) in USABLE
                and not s.dispatcher.in_flight.get(st.name) and st.name not in held}

    def _judge(self, job: Job, now: float, idle: Set[str]) -> None:
        s = self.state
        pid, server = job.prompt_id, job.server
        current = job.attempt
        if pid is None or not server or job.state not in ACTIVE or current is None \
                or current.outcome not in ("submitted", "running"):
            return  # not sent yet, or already ending (collecting its results)
        link = s.links.get(server)
        if link is None or not link.stream_up:
            return
        others = self._allowed(job, idle - {server})
        if not others:
            return
        bound = self._bound(job, others)
        if bound is None:
            return
        silent = now - max(s.heard_at.get(server, 0.0), job.dispatched_at, job.started_at)
        if silent >= bound:
            self._stall(job, pid, server, silent, now)

    def _allowed(self, job: Job, servers: Set[str]) -> List[str]:
        subset = getattr(job.group.plan, "servers", None)
        return sorted(name for name in servers if name not in (job.exclude or ())
                      and (not subset or name in subset))

    def _bound(self, job: Job, others: List[str]) -> Optional[float]:
        expected = getattr(self.state.pool, "expected_duration", None)
        if expected is None:
            return None
        key = (job.group.plan.placement or {}).get("duration_key", "")
        known = [d for d in (expected(name, key) for name in others) if d is not None]
        if not known:
            return None
        bound = max(self.min_s, self.factor * max(known))
        return bound if bound <= self.state.timeout_of(job) / 2 else None  # else the timeout is as quick

    def _stall(self, job: Job, pid: str, server: str, silent: float, now: float) -> None:
        s = self.state
        self.stalled[server] = self.stalled.get(server, 0) + 1
        log.warning("server %s stalled: no progress on job %s for %.0f s while other servers are idle; "
                    "it goes elsewhere and is cancelled there (prompt %s)", server, job.id, silent, pid)
        s.suspect(server, now)
        s.note_stall(server, pool_note(silent))  # the Server Status panel and `status` say it
        self.recovery.give_up_prompt(job, pid)  # cancelled there by id; a late success is a zombie
        self.recovery.apply_verdict(job, pid, Verdict(Action.REQUEUE, STALLED, attempt_reason(server, silent)))


def _state(status: Any) -> str:
    state = getattr(status, "state", "")
    return str(getattr(state, "value", state))
