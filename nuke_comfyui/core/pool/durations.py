"""Learned job durations per server and workflow shape, for the `fastest` strategy.

An exponential moving average reacts to a server slowing down (another artist's heavy job, thermal
throttling) within a few jobs, while one outlier does not swing the estimate.
"""

from __future__ import annotations

import threading
from typing import Dict, Optional, Tuple

ALPHA = 0.3


class DurationBook:
    """Thread-safe moving averages keyed by (server, duration key), with a per-server fallback."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: Dict[Tuple[str, str], float] = {}
        self._by_server: Dict[str, float] = {}

    def record(self, server: str, key: str, seconds: float) -> None:
        if seconds < 0:
            return
        with self._lock:
            self._by_key[(server, key)] = _smooth(self._by_key.get((server, key)), seconds)
            self._by_server[server] = _smooth(self._by_server.get(server), seconds)

    def expected(self, server: str, key: str) -> Optional[float]:
        """Best estimate for this server and workflow; None when the server never ran anything."""
        with self._lock:
            value = self._by_key.get((server, key))
            return value if value is not None else self._by_server.get(server)

    def fastest_known(self, key: str) -> Optional[float]:
        """The quickest estimate any server has for `key` (the optimistic guess for unmeasured servers)."""
        with self._lock:
            known = [v for (_, k), v in self._by_key.items() if k == key] or list(self._by_server.values())
        return min(known) if known else None


def _smooth(old: Optional[float], new: float) -> float:
    return new if old is None else old + ALPHA * (new - old)
