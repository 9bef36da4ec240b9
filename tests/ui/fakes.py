"""Small stand-ins that follow the pool contract of docs/ARCHITECTURE.md exactly, for unit tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Optional


@dataclass(frozen=True)
class FakeStatus:
    name: str
    url: str
    state: str
    enabled: bool = True
    queue_running: int = 0
    queue_pending: int = 0
    vram_total: Optional[int] = 24 * 1024**3
    vram_free: Optional[int] = 20 * 1024**3
    cpu_only: bool = False
    latency_ms: Optional[float] = 12.0
    comfyui_version: Optional[str] = "0.8.2"
    error: Optional[str] = None
    checked_at: Optional[float] = None


@dataclass
class FakeServerConfig:
    name: str


class FakePool:
    """Records calls and the threads they came from; `push` plays the poller thread."""

    def __init__(self, statuses: List[FakeStatus]) -> None:
        self._statuses = {s.name: s for s in statuses}
        self._subscribers: List[Callable[[Any], None]] = []
        self.calls: List[tuple] = []
        self.threads: List[threading.Thread] = []
        self.lock = threading.Lock()

    def statuses(self) -> List[FakeStatus]:
        self.threads.append(threading.current_thread())
        with self.lock:
            return list(self._statuses.values())

    def servers(self) -> List[FakeServerConfig]:
        return [FakeServerConfig(name) for name in self._statuses]

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.threads.append(threading.current_thread())
        self.calls.append(("set_enabled", name, enabled))
        with self.lock:
            old = self._statuses[name]
            self._statuses[name] = replace(old, enabled=enabled, state="online" if enabled else "disabled")
        self.push(self._statuses[name])

    def test_connection(self, server: FakeServerConfig) -> FakeStatus:
        self.threads.append(threading.current_thread())
        self.calls.append(("test_connection", server.name))
        return self._statuses[server.name]

    def push(self, status: FakeStatus) -> None:
        """Deliver a change from a non-GUI thread, as the real poller does."""
        with self.lock:
            self._statuses[status.name] = status
        worker = threading.Thread(target=lambda: [cb(status) for cb in list(self._subscribers)])
        worker.start()
        worker.join()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


def statuses_dict(pool: FakePool) -> Dict[str, FakeStatus]:
    return {s.name: s for s in pool.statuses()}
