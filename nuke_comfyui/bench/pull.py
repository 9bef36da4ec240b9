"""The project's own design under the benchmark: the production Farm (pool + scheduler) with pull dispatch."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.bench.measure import Window, execution_window
from nuke_comfyui.core.comfy.preview_method import Policy
from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.scheduler import GroupState

RunResult = Tuple[float, float, Dict[str, List[Window]], float]  # makespan s, client CPU s, windows, end ms


def run_pull(strategy: str, servers: Sequence[ServerConfig], workflow_path: Path, jobs: int, work_dir: Path,
             *, base_seed: int, label: str, timeout: float = 900.0,
             on_done: Optional[Callable[[], None]] = None,
             on_ready: Optional[Callable[[Farm], Any]] = None, previews: Policy = True) -> RunResult:
    """One group of `jobs` seed variations with fresh seeds from `base_seed`; `on_done` runs as it ends,
    `on_ready(farm)` once the farm is ready, before the clock starts (a watcher of its live view, say);
    `previews` False builds the farm as the CLI does, asking the servers for no live previews;
    WHEN_WATCHED as a Nuke GUI does (previews asked only while a panel shows them)."""
    cluster = ClusterConfig(servers=list(servers), strategy=strategy, poll_interval=0.5)
    farm = Farm.from_config(cluster, journal_path=work_dir / f"journal-{label}.sqlite", previews=previews).start()
    try:
        wait_until_ready(farm, len(servers))
        if on_ready is not None:
            on_ready(farm)
        request = RenderRequest(workflow_path=str(workflow_path), output_dir=str(work_dir / label),
                                variations=jobs, seed_strategy="sequential", base_seed=base_seed, label=label)
        started, cpu_started = time.perf_counter(), time.process_time()
        group_id = farm.scheduler.submit(request)
        snapshot = farm.scheduler.wait(group_id, timeout=timeout)
        makespan, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        ended_ms = time.time() * 1000
        if on_done is not None:
            on_done()
        if snapshot.state is not GroupState.COMPLETED:
            raise RuntimeError(f"pull {strategy}: group ended {snapshot.state.value} ({snapshot.failed} failed)")
        windows: Dict[str, List[Window]] = {}
        for job in snapshot.jobs:
            if job.server and job.prompt_id:
                window = execution_window(farm.pool.client(job.server), job.prompt_id)
                if window:
                    windows.setdefault(job.server, []).append(window)
    finally:
        farm.stop()
    return makespan, cpu, windows, ended_ms


def wait_until_ready(farm: Farm, servers: int, timeout: float = 30.0) -> None:
    """Start the clock as the push designs do: once every server answered and its stream is up.

    A session's farm is started once and renders many groups, so connecting is not part of a
    group's makespan (push waits for its own streams before its clock starts, too).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answered = sum(1 for status in farm.pool.statuses() if status.state.usable)
        if answered == servers and len(farm.scheduler.listening()) == servers \
                and not farm.pool.capabilities_pending():
            return
        time.sleep(0.01)
    raise RuntimeError(f"the farm's {servers} servers were not all online and listening within {timeout:.0f} s")


def big_group(servers: Sequence[ServerConfig], workflow_path: Path, work_dir: Path, jobs: int = 10_000,
              seconds: float = 6.0) -> Dict[str, Any]:
    """Memory held by a `jobs`-job group and dispatch throughput early vs late in a fixed window."""
    import tracemalloc

    cluster = ClusterConfig(servers=list(servers), strategy="fastest", poll_interval=0.5)
    farm = Farm.from_config(cluster, journal_path=work_dir / "journal-big.sqlite").start()
    try:
        request = RenderRequest(workflow_path=str(workflow_path), output_dir=str(work_dir / "big"),
                                variations=jobs, seed_strategy="sequential", base_seed=7_000_001, label="big")
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        cpu_started = time.process_time()
        group_id = farm.scheduler.submit(request)
        submit_cpu = time.process_time() - cpu_started
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        marks = []
        for _ in range(2):  # jobs finished in each half of the window: a per-job slowdown would show here
            time.sleep(seconds / 2)
            marks.append(farm.scheduler.summary(group_id).done)  # counters only: no O(jobs) read
        farm.scheduler.cancel(group_id)
    finally:
        farm.stop()
    return {"jobs": jobs, "held_mb": round(held / 2**20, 1),
            "submit_cpu_ms_per_job": round(submit_cpu * 1000 / jobs, 3),
            "completed_first_half": marks[0], "completed_second_half": marks[1] - marks[0]}
