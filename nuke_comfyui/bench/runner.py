"""Runs the whole benchmark in one process: the same 120-job workload on the same farm per design."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from nuke_comfyui.bench.farm import SimFarmProcess
from nuke_comfyui.bench.measure import RunFigures, lower_bound_s, median_idle_gap_ms
from nuke_comfyui.bench.pull import big_group, run_pull
from nuke_comfyui.bench.push import PUSH_DESIGNS, run_push
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.pool import STRATEGIES

SPEEDS = (1, 1, 2, 4)
JOBS = 120
STEPS = 4
SECONDS_PER_STEP = 0.05  # 0.2 s per job on a speed-1 server
WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json"


def run_benchmark(*, jobs: int = JOBS, include_big: bool = True, log: Callable[[str], None] = print
                  ) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nuke-comfyui-bench-") as temp:
        work = Path(temp)
        template = wf.load_workflow(WORKFLOW)
        steps = [n["inputs"]["steps"] for n in template.values() if "steps" in n.get("inputs", {})]
        per_job = sum(steps) * SECONDS_PER_STEP
        bound = lower_bound_s(jobs, per_job, SPEEDS)
        results: Dict[str, Any] = {"lower_bound_s": round(bound, 3), "jobs": jobs, "speeds": list(SPEEDS),
                                   "seconds_per_job_at_speed_1": per_job, "strategies": {}}
        with SimFarmProcess(SPEEDS, SECONDS_PER_STEP, work / "farm") as farm:
            servers = [ServerConfig(name=f"s{i + 1}-x{speed}", host="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
                       for i, (speed, url) in enumerate(zip(SPEEDS, farm.urls))]
            designs: List[str] = list(PUSH_DESIGNS) + [f"pull-{s}" for s in STRATEGIES]
            for design in designs:
                log(f"running {design} ...")
                if design.startswith("push-"):
                    makespan, cpu, windows = run_push(design, servers, template, jobs, design)
                else:
                    makespan, cpu, windows = run_pull(design[len("pull-"):], servers, WORKFLOW, jobs, work)
                figures = RunFigures(makespan, bound / makespan, median_idle_gap_ms(windows), cpu * 1000 / jobs, jobs)
                results["strategies"][design] = figures.to_json()
            if include_big:
                log("running a 10,000-job group ...")
                results["big_group"] = big_group(servers, WORKFLOW, work)
        return results


def format_report(results: Dict[str, Any]) -> str:
    lines = [f"workload: {results['jobs']} jobs, speeds {results['speeds']}, "
             f"{results['seconds_per_job_at_speed_1']:.2f} s per job at speed 1; "
             f"lower bound {results['lower_bound_s']:.2f} s",
             f"{'design':<22}{'makespan':>10}{'efficiency':>12}{'idle gap':>11}{'cpu/job':>10}"]
    for name, fig in results["strategies"].items():
        gap = "-" if fig["idle_gap_ms"] is None else f"{fig['idle_gap_ms']:.0f} ms"
        lines.append(f"{name:<22}{fig['makespan_s']:>9.2f}s{fig['efficiency']:>12.2f}{gap:>11}"
                     f"{fig['cpu_ms_per_job']:>7.1f} ms")
    rr = results["strategies"].get("push-round-robin")
    fastest = results["strategies"].get("pull-fastest")
    if rr and fastest:
        lines.append(f"pull-fastest is {rr['makespan_s'] / fastest['makespan_s']:.2f}x faster than push-round-robin")
    big: Optional[Dict[str, Any]] = results.get("big_group")
    if big:
        lines.append(f"{big['jobs']}-job group: {big['held_mb']} MB held, {big['submit_cpu_ms_per_job']} ms CPU per "
                     f"job to submit; jobs finished in the first/second half of a fixed window: "
                     f"{big['completed_first_half']}/{big['completed_second_half']}")
    return "\n".join(lines)


def to_json(results: Dict[str, Any]) -> str:
    return json.dumps(results, indent=2)
