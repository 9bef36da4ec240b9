"""A pull farm in virtual time, driven by `strategies.choose`: where a group's jobs go, free of the
machine's load, so a test can check the placement `fastest` makes over a whole group.

Each server runs one job at a time and holds one prefetched (max_concurrent 1). A job sent at t
reaches its server at t + send_s (staging a chunk's frames and the POST), starts when the server is
free, and takes cost / speed; its execution time is learned by a `DurationBook`, as the pool does.
Each event (an arrival, an end) is followed by a dispatch pass, as the scheduler's loop does.
`head_start=False` hides how long running jobs have run (what `fastest` saw before it counted it).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.core.pool.durations import DurationBook
from nuke_comfyui.core.pool.strategies import Candidate, choose


@dataclass
class _Server:
    speed: float
    sent: List[Tuple[float, int]] = field(default_factory=list)  # (arrival, job) in order
    running: Optional[Tuple[int, float]] = None  # (job, started)
    ours: int = 0
    ran: int = 0


def run_group(speeds: Sequence[float], costs: Sequence[float], send_s: float, *, strategy: str = "fastest",
              head_start: bool = True) -> Tuple[float, List[int]]:
    """(makespan, jobs each server ran, most first) of one group of jobs with these costs."""
    servers: Dict[str, _Server] = {f"s{i}": _Server(speed) for i, speed in enumerate(speeds)}
    book = DurationBook()
    waiting = list(range(len(costs)))
    events: List[Tuple[float, int, str]] = []  # (time, order, server)
    order = 0
    turn = 0
    end = 0.0

    def start(name: str, now: float) -> None:
        nonlocal order
        server = servers[name]
        if server.running is None and server.sent and server.sent[0][0] <= now:
            job = server.sent.pop(0)[1]
            server.running = (job, now)
            heapq.heappush(events, (now + costs[job] / server.speed, order, name))
            order += 1

    def dispatch(now: float) -> None:
        nonlocal order, turn
        while waiting:
            candidates = [Candidate(name=name, ours=s.ours, others=0, expected_s=book.expected(name, "k"),
                                    running_s=now - s.running[1] if head_start and s.running else 0.0)
                          for name, s in servers.items()]
            chosen = choose(strategy, candidates, turn, backlog=len(waiting))
            if chosen is None:
                return
            turn += 1
            server = servers[chosen]
            server.ours += 1
            server.ran += 1
            server.sent.append((now + send_s, waiting.pop(0)))
            heapq.heappush(events, (now + send_s, order, chosen))
            order += 1

    dispatch(0.0)
    while events:
        now, _, name = heapq.heappop(events)
        server = servers[name]
        if server.running is not None and now >= server.running[1] + costs[server.running[0]] / server.speed:
            book.record(name, "k", now - server.running[1])
            server.running = None
            server.ours -= 1
            end = now
        start(name, now)
        dispatch(now)
        for other in servers:
            start(other, now)
    return end, sorted((s.ran for s in servers.values()), reverse=True)
