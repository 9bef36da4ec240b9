"""Small stand-ins that follow the pool contract of docs/ARCHITECTURE.md exactly, for unit tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
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


@dataclass(frozen=True)
class FakeJob:
    job_id: str
    group_id: str
    frame: Optional[int]
    variation: int
    seed: int
    state: str = "queued"
    server: Optional[str] = None
    prompt_id: Optional[str] = None
    attempts: int = 0
    progress: float = 0.0
    outputs: List[str] = field(default_factory=list)
    error: Optional[str] = None
    depends_on: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class FakeSequence:
    variation: int
    seed: int
    output_node: str
    pattern: str
    first: int
    last: int
    frames_done: List[int]
    servers: List[str]


@dataclass(frozen=True)
class FakeGroup:
    group_id: str
    label: str
    state: str
    output_dir: str
    jobs: List[FakeJob]
    done: int
    failed: int
    total: int
    fraction: float
    eta_s: Optional[float]
    sequences: List[FakeSequence]


@dataclass(frozen=True)
class FakeJobUpdated:
    job: FakeJob


@dataclass(frozen=True)
class FakeGroupUpdated:
    group: FakeGroup


class FakeScheduler:
    """Holds one group; `update` changes a job and publishes from a non-GUI thread like the real bus."""

    def __init__(self, group_id: str = "g1234567890", frames: int = 3, variations: int = 2) -> None:
        self.group_id = group_id
        self.jobs: Dict[str, FakeJob] = {}
        for v in range(variations):
            for f in range(frames):
                job = FakeJob(f"j{v}-{f}", group_id, 1001 + f, v, 100 + v)
                self.jobs[job.job_id] = job
        self.sequences: List[FakeSequence] = []
        self.calls: List[tuple] = []
        self.threads: List[threading.Thread] = []
        self._subscribers: List[Callable[[Any], None]] = []

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def snapshot(self, group_id: str) -> FakeGroup:
        self.threads.append(threading.current_thread())
        return self._snapshot(group_id)

    def _snapshot(self, group_id: str) -> FakeGroup:
        jobs = list(self.jobs.values())
        done = sum(j.state == "completed" for j in jobs)
        failed = sum(j.state in ("failed", "timeout") for j in jobs)
        return FakeGroup(group_id, "plate", "running", "/out", jobs, done, failed, len(jobs),
                         done / len(jobs), 12.0, list(self.sequences))

    def cancel(self, group_id: str) -> None:
        self.threads.append(threading.current_thread())
        self.calls.append(("cancel", group_id))

    def retry_failed(self, group_id: str) -> None:
        self.threads.append(threading.current_thread())
        self.calls.append(("retry_failed", group_id))

    def update(self, job_id: str, **changes: Any) -> None:
        self.jobs[job_id] = replace(self.jobs[job_id], **changes)
        job = self.jobs[job_id]
        events = [FakeJobUpdated(job), FakeGroupUpdated(self._snapshot(self.group_id))]
        worker = threading.Thread(target=lambda: [cb(e) for e in events for cb in list(self._subscribers)])
        worker.start()
        worker.join()
