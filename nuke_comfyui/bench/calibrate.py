"""Calibration: the simulator's own fixed cost per job on each server, measured before the designs run.

A simulated job costs its sampler time (steps x seconds per step / speed) plus a fixed cost that
does not scale with speed: validation, the other nodes, PNG encoding, history and messages, and
the contention of every server sharing one process. Every server is given a few back-to-back jobs
at once (so the contention is like a real run) with seeds no design uses, and the fixed cost is
each server's median execution time minus its sampler time. The calibrated bound adds it per job.

The calibration client behaves as a run's client does on the wire: it listens on each server's
event stream (so the server sends every message of a prompt, as it does in a run, where that
work falls inside the execution) and fetches each result as its prompt ends (GET /view, which the
server's event loop serves while its other prompts execute). Without that, the measured cost
left out work every run pays, and the calibrated bound was too low by about a millisecond a job.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Sequence

from nuke_comfyui.bench.measure import execution_window
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.comfy.events import Connected, EventStream, Executed, PromptDone
from nuke_comfyui.core.comfy.outputs import output_files
from nuke_comfyui.core.config import ServerConfig

CALIBRATION_SEED = 900_000_001  # = 1 mod 5 (never a heavy job), far from every design's seeds
JOBS_PER_SERVER = 8  # the windows have millisecond stamps: a median of 8 steadies the estimate


class _Fetcher:
    """One server's stream: notes each prompt's outputs and fetches them when the prompt ends."""

    def __init__(self, client: ComfyClient, folder: Path, pool: ThreadPoolExecutor) -> None:
        self.client, self.folder, self.pool = client, folder, pool
        self.connected = threading.Event()
        self._outputs: Dict[str, List[Any]] = {}

    def __call__(self, event: Any) -> None:
        if isinstance(event, Connected):
            self.connected.set()
        elif isinstance(event, Executed) and event.prompt_id:
            self._outputs.setdefault(event.prompt_id, []).extend(output_files({event.node: event.output}))
        elif isinstance(event, PromptDone):
            files = self._outputs.pop(event.prompt_id, [])
            self.pool.submit(self._fetch, event.prompt_id, files)

    def _fetch(self, prompt_id: str, files: List[Any]) -> None:
        for index, item in enumerate(files):
            self.client.download(item, self.folder, f"{prompt_id}-{index}.png")


def fixed_cost_per_job(servers: Sequence[ServerConfig], speeds: Sequence[float], template: Dict[str, Any],
                       seconds_per_job: float, *, timeout: float = 120.0) -> List[float]:
    """Seconds of fixed cost per job on each server (>= 0), in the order of `servers`."""
    clients = [ComfyClient(s) for s in servers]
    outputs = wf.find_output_nodes(template)
    sent: List[List[str]] = [[] for _ in servers]
    with tempfile.TemporaryDirectory(prefix="nuke-comfyui-calibration-") as folder, \
            ThreadPoolExecutor(max_workers=4, thread_name_prefix="calibration-fetch") as pool:
        fetchers = [_Fetcher(client, Path(folder), pool) for client in clients]
        streams = [EventStream(server, fetcher) for server, fetcher in zip(servers, fetchers)]
        for stream in streams:
            stream.start()
        try:
            for fetcher in fetchers:
                fetcher.connected.wait(10)

            def submit(index: int) -> None:
                for k in range(JOBS_PER_SERVER):
                    seed = CALIBRATION_SEED + 5 * (index * JOBS_PER_SERVER + k)
                    prompt = wf.patch(template, seed=seed)
                    wf.patch_filename_prefix(prompt, f"bench/calibration/{index}-{k}", outputs)
                    prompt_id = uuid.uuid4().hex
                    clients[index].submit(prompt, client_id=streams[index].client_id, prompt_id=prompt_id)
                    sent[index].append(prompt_id)

            threads = [threading.Thread(target=submit, args=(i,), daemon=True) for i in range(len(servers))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout)
            durations = [[window[1] - window[0] for window in _wait_windows(client, sent[index], timeout)]
                         for index, client in enumerate(clients)]
        finally:
            for stream in streams:
                stream.stop()
            for client in clients:
                client.close()
    return [max(0.0, statistics.median(d) / 1000 - seconds_per_job / speed) for d, speed in zip(durations, speeds)]


def _wait_windows(client: ComfyClient, prompt_ids: Sequence[str], timeout: float) -> List[Any]:
    """Each prompt's execution window, polling its history until it is there (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    windows = []
    for prompt_id in prompt_ids:
        while True:
            window = execution_window(client, prompt_id)
            if window is not None:
                windows.append(window)
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"calibration: {client.name} did not finish prompt {prompt_id} in {timeout:.0f} s")
            time.sleep(0.02)
    return windows
