"""Runs the benchmark: each scenario's farm is calibrated, then every design runs on a fresh copy of it.

Every run of every design gets a fresh simulated farm (same speeds, empty queues and caches) and
fresh seeds, so no cache hit or leftover state can favour one design. Each design repeats and
reports the median run with the min and max makespan.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from nuke_comfyui.bench.bounds import ServerShape, bound_s, whole_jobs_bound_s
from nuke_comfyui.bench.calibrate import fixed_cost_per_job
from nuke_comfyui.bench.farm import FarmShape, SimFarmProcess
from nuke_comfyui.bench.measure import RunFigures, idle_per_server, summarize
from nuke_comfyui.bench.pull import big_group, run_pull
from nuke_comfyui.bench.push import run_push
from nuke_comfyui.bench.scenarios import SUITE, Scenario
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.examples import example_path

WORKFLOW = example_path("txt2img_variations.json")  # package data in a wheel, examples/ in a checkout
Log = Callable[[str], None]


def server_configs(urls: Sequence[str], speeds: Sequence[float]) -> List[ServerConfig]:
    return [ServerConfig(name=f"s{i + 1}-x{speed:g}", host="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
            for i, (speed, url) in enumerate(zip(speeds, urls))]


def sampler_steps(template: Dict[str, Any]) -> int:
    return sum(int(n["inputs"]["steps"]) for n in template.values() if "steps" in n.get("inputs", {}))


class Bench:
    """One benchmark session: a work folder, the workflow, and a source of never-reused seeds."""

    def __init__(self, work: Path, log: Log) -> None:
        self.work = work
        self.log = log
        self.template = wf.load_workflow(WORKFLOW)
        self.steps = sampler_steps(self.template)
        self._seeds: Iterator[int] = itertools.count(1, 100_000)  # all = 1 mod 5: heavy jobs fall alike
        self._runs = itertools.count()

    def farm_shape(self, scenario: Scenario, *, with_slowdown: bool = True) -> FarmShape:
        slow: Optional[List[Optional[float]]] = None
        if with_slowdown and scenario.slow_server is not None:
            slow = [scenario.slow_to if i == scenario.slow_server else None for i in range(len(scenario.speeds))]
        return FarmShape(scenario.speeds, scenario.seconds_per_job / self.steps, slow_to=slow,
                         slow_after_s=scenario.slow_after_s, heavy_every=scenario.heavy_every,
                         heavy_factor=scenario.heavy_factor)

    def run_scenario(self, scenario: Scenario, repeats: int, designs: Optional[Sequence[str]] = None
                     ) -> Dict[str, Any]:
        self.log(f"[{scenario.name}] calibrating the simulator's fixed cost per job ...")
        with SimFarmProcess(self.farm_shape(scenario, with_slowdown=False), self.work / f"{scenario.name}-cal") as farm:
            fixed = fixed_cost_per_job(server_configs(farm.urls, scenario.speeds), scenario.speeds, self.template,
                                       scenario.seconds_per_job)
        shapes = [ServerShape(speed, scenario.slow_to if i == scenario.slow_server else None, scenario.slow_after_s,
                              cost) for i, (speed, cost) in enumerate(zip(scenario.speeds, fixed))]
        fluid = [ServerShape(s.speed, s.slow_to, s.slow_after_s) for s in shapes]
        bound = bound_s(scenario.jobs, scenario.mean_work, fluid)
        calibrated = bound_s(scenario.jobs, scenario.mean_work, shapes)
        largest = scenario.seconds_per_job * scenario.heavy_factor if scenario.heavy_every else None
        whole = whole_jobs_bound_s(scenario.jobs, scenario.mean_work, shapes, largest)
        result: Dict[str, Any] = {
            "description": scenario.description, "jobs": scenario.jobs, "speeds": list(scenario.speeds),
            "seconds_per_job_at_speed_1": scenario.seconds_per_job, "lower_bound_s": round(bound, 3),
            "calibrated_bound_s": round(calibrated, 3), "whole_jobs_bound_s": round(whole, 3),
            "fixed_cost_ms": round(1000 * sorted(fixed)[len(fixed) // 2], 2), "strategies": {}}
        repeats = min(repeats, scenario.max_repeats or repeats)
        for design in designs or scenario.designs:
            runs = [self._run_once(scenario, design) for _ in range(repeats)]
            result["strategies"][design] = summarize(runs, bound, calibrated, whole)
        return result

    def _run_once(self, scenario: Scenario, design: str) -> RunFigures:
        label = f"{design}-{next(self._runs)}"
        seed = next(self._seeds)
        self.log(f"[{scenario.name}] running {design} ...")
        with SimFarmProcess(self.farm_shape(scenario), self.work / label) as farm:
            servers = server_configs(farm.urls, scenario.speeds)
            sim_cpu: Dict[str, Optional[float]] = {"start": farm.cpu_seconds()}

            def done() -> None:
                sim_cpu["end"] = farm.cpu_seconds()

            if design.startswith("push-"):
                makespan, cpu, windows, end_ms = run_push(design, servers, self.template, scenario.jobs, label,
                                                          base_seed=seed, on_done=done)
            else:
                makespan, cpu, windows, end_ms = run_pull(design[len("pull-"):], servers, WORKFLOW, scenario.jobs,
                                                          self.work, base_seed=seed, label=label, on_done=done)
        start, end = sim_cpu["start"], sim_cpu.get("end")
        used = None if start is None or end is None else end - start
        idle = idle_per_server(windows, [s.name for s in servers], end_ms)
        return RunFigures(makespan, cpu, used, scenario.jobs, idle)

    def big_group(self) -> Dict[str, Any]:
        scenario = SUITE["farm-120"]
        self.log("running a 10,000-job group ...")
        with SimFarmProcess(self.farm_shape(scenario), self.work / "big-farm") as farm:
            return big_group(server_configs(farm.urls, scenario.speeds), WORKFLOW, self.work)


def run_benchmark(*, jobs: Optional[int] = None, repeats: int = 3, include_big: bool = True,
                  suite: bool = False, scenarios: Sequence[str] = (), log: Log = print) -> Dict[str, Any]:
    """The headline run (farm-120, today's keys), plus the suite or named scenarios when asked."""
    with tempfile.TemporaryDirectory(prefix="nuke-comfyui-bench-") as temp:
        bench = Bench(Path(temp), log)
        headline = SUITE["farm-120"]
        if jobs is not None:
            headline = Scenario(headline.name, f"{jobs} jobs on the 1,1,2,4 farm", headline.speeds, jobs,
                                headline.seconds_per_job)
        results = bench.run_scenario(headline, repeats)
        names = list(SUITE) if suite else list(scenarios)
        if names:
            results["scenarios"] = {headline.name: dict(results)}
            for name in names:
                if name != "farm-120":
                    results["scenarios"][name] = bench.run_scenario(SUITE[name], repeats)
        if include_big:
            results["big_group"] = bench.big_group()
        return results


def to_json(results: Dict[str, Any]) -> str:
    return json.dumps(results, indent=2)
