"""The seeds' push designs, reproduced as baselines: every job is sent to a server at submit time.

- push-round-robin: job i goes to server i mod N, all up front.
- push-least-loaded: each job goes to the server whose queue (GET /prompt) is shortest right now.
Both strand work on slow servers: the queues they fill are never rebalanced.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.bench.measure import Window, execution_window
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.comfy.events import Connected, EventStream, PromptDone
from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.seeds import seed_for

PUSH_DESIGNS = ("push-round-robin", "push-least-loaded")


class _Completion:
    """Counts our prompts reported done by the servers' event streams."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting: set = set()
        self.done = threading.Event()
        self.connected: Dict[str, threading.Event] = {}

    def handler(self, name: str) -> Any:
        self.connected[name] = threading.Event()

        def on_event(event: Any) -> None:
            if isinstance(event, Connected):
                self.connected[name].set()
            elif isinstance(event, PromptDone):
                with self.lock:
                    self.waiting.discard(event.prompt_id)
                    if not self.waiting:
                        self.done.set()

        return on_event


def run_push(design: str, servers: Sequence[ServerConfig], template: Dict[str, Any], jobs: int,
             run_id: str, *, base_seed: int, timeout: float = 900.0,
             on_done: Optional[Callable[[], None]] = None) -> Tuple[float, float, Dict[str, List[Window]], float]:
    """Run one push design with fresh seeds from `base_seed`.

    Returns (makespan s, client CPU s, execution windows per server, end of the group in ms).
    """
    clients = {s.name: ComfyClient(s) for s in servers}
    completion = _Completion()
    streams = {s.name: EventStream(s, completion.handler(s.name)) for s in servers}
    for stream in streams.values():
        stream.start()
    try:
        for event in completion.connected.values():
            event.wait(10)
        names = [s.name for s in servers]
        outputs = wf.find_output_nodes(template)
        sent: List[Tuple[str, str]] = []
        started, cpu_started = time.perf_counter(), time.process_time()
        for index in range(jobs):
            if design == "push-round-robin":
                name = names[index % len(names)]
            else:
                name = min(names, key=lambda n: (clients[n].queue_remaining(), n))
            prompt = wf.patch(template, seed=seed_for("sequential", base_seed, index))
            wf.patch_filename_prefix(prompt, f"bench/{run_id}/{index:04d}", outputs)
            prompt_id = uuid.uuid4().hex
            with completion.lock:
                completion.waiting.add(prompt_id)
            clients[name].submit(prompt, client_id=streams[name].client_id, prompt_id=prompt_id)
            sent.append((name, prompt_id))
        if not completion.done.wait(timeout):
            raise TimeoutError(f"{design}: jobs still unfinished after {timeout:.0f} s")
        makespan, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        ended_ms = time.time() * 1000
        if on_done is not None:
            on_done()
    finally:
        for stream in streams.values():
            stream.stop()
    windows: Dict[str, List[Window]] = {}
    for name, prompt_id in sent:
        window = execution_window(clients[name], prompt_id)
        if window:
            windows.setdefault(name, []).append(window)
    for client in clients.values():
        client.close()
    return makespan, cpu, windows, ended_ms
