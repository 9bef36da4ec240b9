"""Calibration: the simulator's own fixed cost per job on each server, measured before the designs run.

A simulated job costs its sampler time (steps x seconds per step / speed) plus a fixed cost that
does not scale with speed: validation, the other nodes, PNG encoding, history and messages, and
the contention of every server sharing one process. Every server is given a few back-to-back jobs
at once (so the contention is like a real run) with seeds no design uses, and the fixed cost is
each server's median execution time minus its sampler time. The calibrated bound adds it per job.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from typing import Any, Dict, List, Sequence

from nuke_comfyui.bench.measure import execution_window
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.config import ServerConfig

CALIBRATION_SEED = 900_000_001  # = 1 mod 5 (never a heavy job), far from every design's seeds
JOBS_PER_SERVER = 4


def fixed_cost_per_job(servers: Sequence[ServerConfig], speeds: Sequence[float], template: Dict[str, Any],
                       seconds_per_job: float, *, timeout: float = 120.0) -> List[float]:
    """Seconds of fixed cost per job on each server (>= 0), in the order of `servers`."""
    clients = [ComfyClient(s) for s in servers]
    outputs = wf.find_output_nodes(template)
    sent: List[List[str]] = [[] for _ in servers]

    def submit(index: int) -> None:
        for k in range(JOBS_PER_SERVER):
            seed = CALIBRATION_SEED + 5 * (index * JOBS_PER_SERVER + k)
            prompt = wf.patch(template, seed=seed)
            wf.patch_filename_prefix(prompt, f"bench/calibration/{index}-{k}", outputs)
            prompt_id = uuid.uuid4().hex
            clients[index].submit(prompt, client_id=f"calibration-{uuid.uuid4().hex}", prompt_id=prompt_id)
            sent[index].append(prompt_id)

    threads = [threading.Thread(target=submit, args=(i,), daemon=True) for i in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    costs = []
    try:
        for index, (client, speed) in enumerate(zip(clients, speeds)):
            durations = [window[1] - window[0] for window in _wait_windows(client, sent[index], timeout)]
            costs.append(max(0.0, statistics.median(durations) / 1000 - seconds_per_job / speed))
    finally:
        for client in clients:
            client.close()
    return costs


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
