"""Learned job durations per server and workflow shape, for the `fastest` strategy.

An exponential moving average reacts to a server slowing down (another artist's heavy job, thermal
throttling) within a few jobs, while one outlier does not swing the estimate.

A server that never ran a workflow borrows its average over everything it ran, but only while no
server has run that workflow: all servers are then compared on the same footing (their relative
speeds). Once one server has a figure for the workflow, the others are "never measured" for it
rather than measured on other work: a chunk of 16 frames takes 16 frames' time, and a server
judged on single frames would look sixteen times faster than the one that just ran a chunk.
"""

from __future__ import annotations

import threading
from typing import Dict, List, Optional, Tuple

ALPHA = 0.3


class DurationBook:
    """Thread-safe moving averages keyed by (server, duration key), with a per-server fallback."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: Dict[Tuple[str, str], float] = {}
        self._by_server: Dict[str, float] = {}
        self._floor_key: Dict[str, float] = {}  # key -> smallest value ever held for it
        self._floor_server: Optional[float] = None  # smallest per-server value ever held

    def record(self, server: str, key: str, seconds: float) -> None:
        if seconds < 0:
            return
        with self._lock:
            by_key = self._by_key[(server, key)] = _smooth(self._by_key.get((server, key)), seconds)
            by_server = self._by_server[server] = _smooth(self._by_server.get(server), seconds)
            self._floor_key[key] = min(self._floor_key.get(key, by_key), by_key)
            floor = self._floor_server
            self._floor_server = by_server if floor is None else min(floor, by_server)

    def expected(self, server: str, key: str) -> Optional[float]:
        """Best estimate for this server and workflow; None when it never ran the workflow while
        another server did, or never ran anything."""
        with self._lock:
            value = self._by_key.get((server, key))
            if value is not None or key in self._floor_key:
                return value
            return self._by_server.get(server)

    def expected_many(self, servers: List[str], key: str) -> List[Optional[float]]:
        """`expected(server, key)` for each server, under one hold of the lock."""
        by_key, by_server = self._by_key, self._by_server
        with self._lock:
            if key in self._floor_key:  # some server ran this workflow: no borrowed figures
                return [by_key.get((server, key)) for server in servers]
            return [by_server.get(server) for server in servers]

    def floor(self, key: str) -> Optional[float]:
        """A value no estimate `expected(any server, key)` is below, now or later (None: nothing learned).

        The smallest value ever held, so it only moves down and costs O(1): the dispatcher uses it to
        prove, without reading every server, that `fastest` would not hold a job back.
        """
        with self._lock:
            values = [v for v in (self._floor_key.get(key), self._floor_server) if v is not None]
        return min(values) if values else None

    def fastest_known(self, key: str) -> Optional[float]:
        """The quickest estimate any server has for `key` (the optimistic guess for unmeasured servers)."""
        with self._lock:
            known = [v for (_, k), v in self._by_key.items() if k == key] or list(self._by_server.values())
        return min(known) if known else None


def _smooth(old: Optional[float], new: float) -> float:
    return new if old is None else old + ALPHA * (new - old)
