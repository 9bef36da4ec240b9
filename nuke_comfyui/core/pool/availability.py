"""Which servers were down or unusable while a render ran, and why: for the render's summary.

Why: a render that finished on three servers while the fourth was unreachable the whole time
looks like a healthy render — until someone wonders why it took a third longer. The pool already
knows each server's state; this log listens to it for the length of a render and says, at the
end, which servers were never usable ("gpu02 unreachable the whole render (connection refused)")
and which went away during it. Only servers the render could use count (enabled, and among its
`--servers` when given). Pure: no printing, the caller formats.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from nuke_comfyui.core.pool.reachability import server_problem

USABLE = ("online", "busy")


@dataclass
class _Record:
    url: str
    usable_seen: bool = False
    probed: bool = False
    down_since: Optional[float] = None
    outages: int = 0
    state: str = "offline"
    problem: str = ""


class AvailabilityLog:
    """Listens to a pool's status changes from construction until `stop()`."""

    def __init__(self, pool: Any, names: Optional[Sequence[str]] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._wanted = set(names or ())
        self._records: Dict[str, _Record] = {}
        self._unsubscribe: Optional[Callable[[], None]] = None
        for status in pool.statuses():
            self._note(status)
        subscribe = getattr(pool, "subscribe", None)
        if subscribe is not None:
            self._unsubscribe = subscribe(self._note)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _note(self, status: Any) -> None:
        """One status from the pool (its poller's thread): track when the server was usable."""
        if not getattr(status, "enabled", True) or (self._wanted and status.name not in self._wanted):
            return
        state = str(getattr(status.state, "value", status.state))
        with self._lock:
            record = self._records.setdefault(status.name, _Record(status.url))
            if getattr(status, "checked_at", None) is None:
                return  # not probed yet: says nothing about the server
            record.probed, record.state = True, state
            if state in USABLE:
                record.usable_seen = True
                record.down_since = None
                return
            record.problem = server_problem(status)
            if record.down_since is None:
                record.down_since = self._clock()
                if record.usable_seen:
                    record.outages += 1

    def problems(self) -> List[str]:
        """One line per server that was not usable for the whole render, or went away during it."""
        lines: List[str] = []
        with self._lock:
            for name, record in sorted(self._records.items()):
                if not record.probed:
                    continue
                what = "unreachable" if record.state == "offline" else "unusable"
                if not record.usable_seen:
                    lines.append(f"{name} {what} the whole render ({record.problem})")
                elif record.down_since is not None:
                    after = record.down_since - self._started
                    lines.append(f"{name} {what} from {after:.0f} s into the render to its end ({record.problem}); "
                                 "its jobs went to the other servers")
                elif record.outages:
                    times = "once" if record.outages == 1 else f"{record.outages} times"
                    lines.append(f"{name} was down {times} during the render and came back ({record.problem})")
        return lines
