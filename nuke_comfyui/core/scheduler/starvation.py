"""No silent waits: a group whose jobs no server can take ends failed, with the reason, in bounded time.

Waiting is right while servers are busy (ours or other artists' work drains) and wrong when no
enabled server is usable for the group at all: all refused, dead, answering garbage, or lacking
the workflow's nodes. Then the group says why, once, and if no server comes back within
`no_server_wait` seconds its waiting children fail with that reason — `render`, headless and
the panels never wait forever.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Tuple

from nuke_comfyui.core.scheduler.group import Group
from nuke_comfyui.core.scheduler.jobs import JobState
from nuke_comfyui.core.scheduler.state import SchedulerState

log = logging.getLogger(__name__)

USABLE_STATES = ("online", "busy")
#: a waiting group's servers are re-read at most this often (reading them is O(servers), a pass is not)
LOOK_EVERY_S = 0.2


class StarvationWatch:
    """Finds groups that cannot make progress on any server and fails them after a bound."""

    def __init__(self, state: SchedulerState, no_server_wait: float) -> None:
        self.state = state
        self.no_server_wait = no_server_wait
        self._looked: Dict[str, Tuple[float, Optional[str]]] = {}  # group id -> (when, reason then)

    def check(self, now: float) -> Optional[float]:
        """Under the lock, each dispatch pass: returns when to look again (None: nothing waits)."""
        s = self.state
        soonest: Optional[float] = None
        for group in list(s.dispatcher.groups.values()):
            if group.cancel_requested or group.active or not has_waiting(group):
                group.waiting_since = None
                self._looked.pop(group.id, None)
                continue
            reason = self._reason(group, now)
            if reason is None:
                if group.waiting_since is not None:
                    log.info("group %s: a server is usable again; dispatching", group.id[:8])
                group.waiting_since = None
                continue
            if group.waiting_since is None:
                group.waiting_since = now
                log.warning("group %s waits: %s; it fails in %.0f s unless a server comes back",
                            group.id[:8], reason, self.no_server_wait)
            deadline = group.waiting_since + self.no_server_wait
            if now >= deadline:
                self._fail(group, f"no server could take it for {self.no_server_wait:.0f} s: {reason}")
                continue
            soonest = deadline if soonest is None else min(soonest, deadline)
        if soonest is not None:
            return min(soonest, now + 1.0)  # look again soon: a server may come back
        return None

    def _reason(self, group: Group, now: float) -> Optional[str]:
        looked = self._looked.get(group.id)
        if looked is not None and now - looked[0] < LOOK_EVERY_S and not group.waiting_reason:
            return looked[1]
        reason = self._blocked_reason(group)
        self._looked[group.id] = (now, reason)
        return reason

    def _blocked_reason(self, group: Group) -> Optional[str]:
        """Why no server can take this group's jobs now, or None when one can (or may soon)."""
        if group.waiting_reason:  # the pool said no enabled server can ever run it (as configured)
            return group.waiting_reason
        subset = set(getattr(group.plan, "servers", None) or ())
        statuses = [st for st in self.state.statuses() if getattr(st, "enabled", True)
                    and (not subset or st.name in subset)]
        if not statuses:
            return "no enabled server" + (f" among {', '.join(sorted(subset))}" if subset else "")
        if any(_state(st) in USABLE_STATES or _never_probed(st) for st in statuses):
            return None  # usable, or not probed yet (right after start): no reason to complain
        return "no server is usable (" + "; ".join(f"{st.name} {_state(st)}" + (
            f": {st.error}" if getattr(st, "error", None) else "") for st in statuses) + ")"

    def _fail(self, group: Group, reason: str) -> None:
        s = self.state
        # info, not error: the warning said why when the wait began, and every failed child carries
        # the reason (the CLI prints it once, the node's status and the panels show it)
        log.info("group %s failed: %s", group.id[:8], reason)
        waiting: List[Any] = [job for job in group.jobs if job.state is JobState.QUEUED]
        for job in waiting:
            s.finish(job, JobState.FAILED, reason)
        group.waiting_since = None
        s.wake.set()


def has_waiting(group: Group) -> bool:
    """Does a job of the group wait, queued, for a server?"""
    return any(job.state is JobState.QUEUED for job in group.ready) or any(
        job.state is JobState.QUEUED for job in group.constrained)


def _never_probed(status: Any) -> bool:
    return hasattr(status, "checked_at") and status.checked_at is None and _state(status) == "offline"


def _state(status: Any) -> str:
    state = getattr(status, "state", "")
    return str(getattr(state, "value", state))
