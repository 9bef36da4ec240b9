"""How a stalled server is said: the attempt's journaled reason, the pool's note, the render's facts.

Why one module: stall_watch.py moves a prompt away from a server that shows no progress on it
while other servers idle, and three readers must then say so — the journal (the attempt's
`stalled` outcome and reason, which outlives the process), the Server Status panel and `status`
(the pool's note on the server, while this process knows it) and the render's summary ("gpu02
stalled (no progress for 40 s on our prompt); 1 frame re-queued elsewhere"). The summary reads the
attempts of the group's jobs, so a resumed render reports stalls from before the resume too; the
seconds are read back from the reason written here, never from a copy of its wording elsewhere.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence

#: the attempt outcome the journal keeps for a prompt moved away from a stalled server
STALLED = "stalled"
_SILENT = re.compile(r"\(no progress for (?P<seconds>\d+) s\b")


def attempt_reason(server: str, silent_s: float) -> str:
    """The stalled attempt's reason (journaled, shown per attempt by `--json`)."""
    return (f"{server} stalled (no progress for {silent_s:.0f} s while other servers were idle); "
            "rendered elsewhere")


def pool_note(silent_s: float, at: Optional[float] = None) -> str:
    """The text the Server Status panel and `status` show for the server until it moves again."""
    clock = time.strftime("%H:%M:%S", time.localtime(time.time() if at is None else at))
    return (f"stalled: no progress for {silent_s:.0f} s on our prompt (at {clock}); it went to another "
            "server, and this one gets no new work of ours until it moves again")


def silent_seconds(reason: Optional[str]) -> Optional[int]:
    """The seconds of silence in a stalled attempt's reason (None for any other text)."""
    match = _SILENT.search(reason or "")
    return int(match.group("seconds")) if match else None


@dataclass
class ServerStalls:
    """One server's stalls during a render: the jobs moved away from it and the longest silence."""

    server: str
    jobs: List[Any] = field(default_factory=list)  # job snapshots, each once
    longest_s: Optional[int] = None


def stalls_by_server(jobs: Sequence[Any]) -> List[ServerStalls]:
    """Per server (in the order the stalls first appear in the group), the jobs a stall moved away
    from it, from the jobs' attempt logs (job snapshots with `attempt_log`)."""
    found: OrderedDict[str, ServerStalls] = OrderedDict()
    for job in jobs:
        for attempt in getattr(job, "attempt_log", None) or ():
            if attempt.outcome != STALLED or not attempt.server:
                continue
            entry = found.setdefault(attempt.server, ServerStalls(attempt.server))
            if not entry.jobs or entry.jobs[-1] is not job:
                entry.jobs.append(job)
            seconds = silent_seconds(attempt.error)
            if seconds is not None and (entry.longest_s is None or seconds > entry.longest_s):
                entry.longest_s = seconds
    return list(found.values())
