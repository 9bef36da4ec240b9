"""The client's throughput ceiling: near-instant simulated servers, so only the client's own cost shows.

The servers run in lean mode (no progress frames) with no sampler time; what is left per job is
the protocol itself (POST, events, result fetch) and the simulator's fixed cost, which is read
from its process and printed beside the client's so a reader can see which side limits the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from nuke_comfyui.bench.farm import FarmShape, SimFarmProcess
from nuke_comfyui.bench.pull import run_pull
from nuke_comfyui.bench.push import run_push
from nuke_comfyui.core import workflow as wf

RUNS: Tuple[Tuple[int, int], ...] = ((1000, 4), (10_000, 4), (1000, 100))  # (jobs, servers)
DESIGNS = ("pull-fastest", "push-round-robin")
GOAL_JOBS_PER_S = 150.0
GOAL_CLIENT_CPU_MS = 3.0


def run_throughput(work: Path, workflow: Path, runs: Sequence[Tuple[int, int]] = RUNS,
                   designs: Sequence[str] = DESIGNS, log: Callable[[str], None] = print) -> Dict[str, Any]:
    template = wf.load_workflow(workflow)
    figures: Dict[str, Any] = {"goal_jobs_per_s": GOAL_JOBS_PER_S, "goal_client_cpu_ms_per_job": GOAL_CLIENT_CPU_MS,
                               "runs": []}
    for seed_block, (jobs, count) in enumerate(runs):
        for design in designs:
            log(f"[throughput] {design}: {jobs} jobs on {count} near-instant servers ...")
            label = f"tp-{design}-{jobs}-{count}"
            shape = FarmShape((1.0,) * count, 0.0, lean=True)
            with SimFarmProcess(shape, work / label) as farm:
                from nuke_comfyui.bench.runner import server_configs

                servers = server_configs(farm.urls, shape.speeds)
                sim: Dict[str, Optional[float]] = {"start": farm.cpu_seconds()}

                def done(farm: SimFarmProcess = farm, sim: Dict[str, Optional[float]] = sim) -> None:
                    sim["end"] = farm.cpu_seconds()

                seed = 50_000_001 + 1_000_000 * (2 * seed_block + DESIGNS.index(design))
                if design.startswith("push-"):
                    makespan, cpu, _, _ = run_push(design, servers, template, jobs, label, base_seed=seed,
                                                   on_done=done)
                else:
                    makespan, cpu, _, _ = run_pull(design[len("pull-"):], servers, workflow, jobs, work,
                                                   base_seed=seed, label=label, on_done=done)
            start, end = sim["start"], sim.get("end")
            figures["runs"].append({
                "design": design, "jobs": jobs, "servers": count,
                "jobs_per_s": round(jobs / makespan, 1),
                "client_cpu_ms_per_job": round(cpu * 1000 / jobs, 2),
                "sim_cpu_ms_per_job": None if start is None or end is None else round((end - start) * 1000 / jobs, 2),
            })
    headline = next((r for r in figures["runs"] if r["design"] == "pull-fastest"), None)
    if headline:
        figures["jobs_per_s"] = headline["jobs_per_s"]
        figures["client_cpu_ms_per_job"] = headline["client_cpu_ms_per_job"]
    return figures
