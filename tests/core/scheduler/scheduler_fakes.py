"""In-memory fakes of the pool, clients and event streams, for fast scheduler unit tests.

A FakeServer runs prompts one at a time on its own thread and talks like ComfyUI: events go
only to the stream whose client_id the prompt was submitted with, history appears before
`PromptDone`, deleting a pending prompt leaves no trace, interrupt only hits the running one.
Behaviour per server: "ok", "error", "oom", "hang", "invalid", "down".
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Set

import pytest
from scheduler_fake_events import (
    Connected,
    Disconnected,
    ExecutionFailed,
    ExecutionFailure,
    ExecutionStart,
    HistoryEntry,
    OutputFile,
    Placement,
    Progress,
    PromptDone,
    ServerConfig,
    Status,
    SubmitResult,
)

from nuke_comfyui.core.errors import NoCapableServer, PromptValidationError, ServerUnavailable
from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.scheduler import GroupPlan, JobSpec, Scheduler


class FakeServer:
    """One ComfyUI look-alike: a FIFO queue executed by one thread."""

    def __init__(self, name: str, behaviour: str = "ok", duration: float = 0.01, vram: int = 8) -> None:
        self.name = name
        self.behaviour = behaviour
        self.duration = duration
        self.vram = vram
        self.config = ServerConfig(name)
        self.stream_cb: Optional[Callable[[Any], None]] = None
        self.stream_client_id: Optional[str] = None
        self.lock = threading.Condition()
        self.pending: List[Dict[str, Any]] = []
        self.running: Optional[Dict[str, Any]] = None
        self.history: Dict[str, HistoryEntry] = {}
        self.submitted: List[Dict[str, Any]] = []
        self.deleted: List[str] = []
        self.interrupted: List[str] = []
        self.max_seen = 0
        self.on_submit: Optional[Callable[[str], None]] = None
        self.refused_submits = 0  # POSTs that reached it while "down" (connection refused)
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    # -- client side ---------------------------------------------------------------------------

    def submit(self, prompt: Dict[str, Any], client_id: str, prompt_id: str) -> SubmitResult:
        if self.behaviour == "down":
            self.refused_submits += 1
            raise ServerUnavailable("connection refused", self.name)
        if self.behaviour == "invalid":
            raise PromptValidationError("node 3 (KSampler): input seed - Value not valid", self.name)
        if self.on_submit is not None:
            self.on_submit(prompt_id)
        with self.lock:
            item = {"prompt": prompt, "client_id": client_id, "prompt_id": prompt_id, "interrupt": False}
            self.pending.append(item)
            self.submitted.append(item)
            self.max_seen = max(self.max_seen, len(self.pending) + (1 if self.running else 0))
            self.lock.notify_all()
        return SubmitResult(prompt_id, len(self.submitted), {})

    def prompt_state(self, prompt_id: str) -> str:
        if self.behaviour == "down":
            raise ServerUnavailable("connection refused", self.name)
        with self.lock:
            if self.running and self.running["prompt_id"] == prompt_id:
                return "running"
            if any(p["prompt_id"] == prompt_id for p in self.pending):
                return "pending"
            entry = self.history.get(prompt_id)
        if entry is None:
            return "unknown"
        return "completed" if entry.failure is None else "failed"

    def delete_pending(self, prompt_ids: List[str]) -> None:
        with self.lock:
            self.deleted.extend(prompt_ids)
            self.pending = [p for p in self.pending if p["prompt_id"] not in prompt_ids]

    def interrupt(self, prompt_id: str) -> None:
        with self.lock:
            self.interrupted.append(prompt_id)
            if self.running and self.running["prompt_id"] == prompt_id:
                self.running["interrupt"] = True
                self.lock.notify_all()

    def busy(self) -> bool:
        with self.lock:
            return bool(self.pending or self.running)

    def close(self) -> None:
        with self.lock:
            self._stop = True
            self.lock.notify_all()

    # -- server side ---------------------------------------------------------------------------

    def _emit(self, item: Dict[str, Any], event: Any) -> None:
        cb = self.stream_cb
        if cb is not None and item["client_id"] == self.stream_client_id:
            cb(event)

    def _run(self) -> None:
        while True:
            with self.lock:
                while not self.pending and not self._stop:
                    self.lock.wait()
                if self._stop:
                    return
                item = self.running = self.pending.pop(0)
            pid = item["prompt_id"]
            self._emit(item, ExecutionStart(pid))
            self._emit(item, Progress(pid, "3", 1, 2))
            failure = None
            if self.behaviour == "hang":
                with self.lock:
                    while not item["interrupt"] and not self._stop:
                        self.lock.wait(0.05)
                failure = ExecutionFailure("3", "KSampler", "InterruptProcessingException", "", True)
            else:
                time.sleep(self.duration)
                if self.behaviour == "error":
                    failure = ExecutionFailure("3", "KSampler", "RuntimeError", "boom")
                elif self.behaviour == "oom" or (self.behaviour == "oom-small" and self.vram < 16):
                    failure = ExecutionFailure("3", "KSampler", "torch.OutOfMemoryError",
                                               "CUDA out of memory. Tried to allocate 2 GiB")
            outputs = [] if failure else [OutputFile("9", "images", f"{pid}_00001_.png", "", "output")]
            with self.lock:
                status = "error" if failure else "success"
                self.history[pid] = HistoryEntry(pid, status, True, outputs, failure)
                self.running = None
            if failure is not None:
                self._emit(item, ExecutionFailed(pid, failure))
            self._emit(item, PromptDone(pid))


class FakeClient:
    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.name = server.name

    def submit(self, prompt: Dict[str, Any], *, client_id: str, prompt_id: str,
               extra_data: Any = None, front: bool = False) -> SubmitResult:
        return self.server.submit(prompt, client_id, prompt_id)

    def history(self, prompt_id: str) -> Optional[HistoryEntry]:
        return self.server.history.get(prompt_id)

    def prompt_state(self, prompt_id: str) -> str:
        return self.server.prompt_state(prompt_id)

    def delete_pending(self, prompt_ids: List[str]) -> None:
        self.server.delete_pending(prompt_ids)

    def interrupt(self, prompt_id: str) -> None:
        self.server.interrupt(prompt_id)

    def upload_image(self, data: bytes, name: str, *, subfolder: str = "", kind: str = "input",
                     overwrite: bool = False) -> Any:
        class Uploaded:
            load_image_value = f"{subfolder}/{name}"

        return Uploaded()

    def download(self, f: OutputFile, dest_dir: Path, dest_name: Optional[str] = None,
                 max_bytes: Optional[int] = None) -> Path:
        target = Path(dest_dir) / (dest_name or f.filename)
        target.write_bytes(f"{self.name}:{f.filename}".encode())
        return target


class FakeStream:
    def __init__(self, server: FakeServer, callback: Callable[[Any], None]) -> None:
        self.server = server
        self.callback = callback

    def start(self) -> None:
        self.connect(reconnect=False)

    def connect(self, reconnect: bool) -> None:
        client_id = uuid.uuid4().hex
        self.server.stream_client_id = client_id
        self.server.stream_cb = self.callback
        self.callback(Connected(client_id, reconnect))

    def drop(self) -> None:
        self.server.stream_cb = None
        self.server.stream_client_id = None
        self.callback(Disconnected("dropped"))

    def stop(self) -> None:
        self.server.stream_cb = None


class FakePool:
    """Room = in_flight < max_concurrent + 1; picks the first server with room (or most VRAM-fit)."""

    def __init__(self, servers: List[FakeServer]) -> None:
        self.fakes = {s.name: s for s in servers}
        self.failures: List[str] = []
        self.durations: List[tuple] = []
        self.choose_calls = 0
        self.subscribers: List[Callable[[Any], None]] = []
        self.offline: Set[str] = set()  # reported lost; like the real pool, offline until probed back
        self.stall_notes: Dict[str, Optional[str]] = {}  # report_stall's last word per server

    def servers(self) -> List[ServerConfig]:
        return [s.config for s in self.fakes.values()]

    def client(self, name: str) -> FakeClient:
        return FakeClient(self.fakes[name])

    def statuses(self) -> List[Status]:
        return [Status(s.name, s.vram, state="offline" if s.name in self.offline else "online")
                for s in self.fakes.values()]

    def choose(self, p: Placement, in_flight: Dict[str, int], backlog: int = 1,
               running_s: Optional[Dict[str, float]] = None) -> Optional[str]:
        self.choose_calls += 1
        considered = [s for s in self.fakes.values() if s.config.enabled and s.name not in p.exclude]
        if not considered:  # like the real pool (placement.Eligibility.check): nothing considered is a
            return None  # wait, not "no server can ever run it"
        capable = [s for s in considered if p.min_vram is None or s.vram >= p.min_vram]
        if not capable:
            raise NoCapableServer("no capable server")
        for s in capable:
            if s.name not in self.offline and in_flight.get(s.name, 0) < s.config.max_concurrent + 1:
                return s.name
        return None

    def report_failure(self, name: str, reason: str) -> None:
        self.failures.append(name)
        self.offline.add(name)

    def report_stall(self, name: str, note: Optional[str]) -> None:
        self.stall_notes[name] = note

    def record_duration(self, name: str, key: str, seconds: float) -> None:
        self.durations.append((name, key, seconds))

    def expected_duration(self, name: str, key: str) -> Optional[float]:
        """The mean of what the server took (like the real pool's DurationBook, simpler)."""
        seen = [seconds for server, k, seconds in self.durations if server == name and k == key]
        return sum(seen) / len(seen) if seen else None

    def subscribe(self, cb: Callable[[Any], None]) -> Callable[[], None]:
        self.subscribers.append(cb)
        return lambda: self.subscribers.remove(cb)

    def publish(self, status: Status) -> None:
        for cb in list(self.subscribers):
            cb(status)


def fake_plan(output_dir: Path, specs: List[JobSpec], *, timeout: Optional[float] = None,
              label: str = "shot") -> GroupPlan:
    def build(plan: GroupPlan, job: Any, image: Optional[str]) -> Dict[str, Any]:
        prompt = plan.template()
        prompt["3"]["inputs"]["seed"] = job.seed
        prompt["9"]["inputs"]["filename_prefix"] = f"nkc_{job.id}"
        return prompt

    return GroupPlan(
        label=label, output_dir=str(output_dir), specs=specs,
        template_json='{"3": {"class_type": "KSampler", "inputs": {"seed": 0}},'
                      ' "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x"}}}',
        build_prompt=build, placement={"class_types": {"KSampler"}, "duration_key": "k"},
        output_nodes=("9",), timeout=timeout,
    )


def frames(n: int, first: int = 1001, variations: int = 1) -> List[JobSpec]:
    specs = []
    for v in range(variations):
        for i in range(n):
            specs.append(JobSpec(len(specs), first + i, v, 1000 * v + i))
    return specs


@dataclass
class Harness:
    servers: List[FakeServer]
    pool: FakePool
    scheduler: Scheduler
    journal: Journal
    streams: Dict[str, FakeStream] = field(default_factory=dict)


@pytest.fixture
def make_harness(tmp_path: Path):
    made: List[Harness] = []

    def make(*servers: FakeServer, retries: int = 2, job_timeout: float = 30.0,
             journal_path: Optional[Path] = None, poll_interval: float = 0.05,
             stall_min_s: Optional[float] = None) -> Harness:
        pool = FakePool(list(servers))
        journal = Journal(journal_path or tmp_path / "journal.sqlite3")
        streams: Dict[str, FakeStream] = {}

        def stream_factory(config: ServerConfig, cb: Callable[[Any], None]) -> FakeStream:
            stream = streams[config.name] = FakeStream(pool.fakes[config.name], cb)
            return stream

        scheduler = Scheduler(pool, journal, job_timeout=job_timeout, retries=retries,
                              poll_interval=poll_interval, stream_factory=stream_factory,
                              placement_factory=Placement, plan_factory=None, stall_min_s=stall_min_s)
        scheduler.start()
        harness = Harness(list(servers), pool, scheduler, journal, streams)
        made.append(harness)
        return harness

    yield make
    for h in made:
        h.scheduler.stop()
        for s in h.servers:
            s.close()
        h.journal.close()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
