"""The benchmark's printed report: one table per scenario, the goals, and the throughput ceiling."""

from __future__ import annotations

from typing import Any, Dict, List

GOAL_CALIBRATED = 0.95
GOAL_SPEEDUP = 1.8


def _scenario_lines(name: str, scenario: Dict[str, Any]) -> List[str]:
    lines = [f"{name}: {scenario['jobs']} jobs on {len(scenario['speeds'])} servers; "
             f"{scenario['seconds_per_job_at_speed_1']:.2f} s per job at speed 1; bound "
             f"{scenario['lower_bound_s']:.2f} s, with the simulator's {scenario['fixed_cost_ms']:.1f} ms "
             f"fixed cost per job {scenario['calibrated_bound_s']:.2f} s{_whole(scenario)}",
             f"  {'design':<20}{'makespan (min-max)':>24}{'eff':>7}{'cal.eff':>9}{'busy':>7}{'idle':>10}{'tail':>9}"
             f"{'client/job':>12}{'sim/job':>10}"]
    for design, fig in scenario["strategies"].items():
        span = f"{fig['makespan_s']:.2f} ({fig['makespan_min_s']:.2f}-{fig['makespan_max_s']:.2f})"
        tail = "-" if fig["max_tail_s"] is None else f"{fig['max_tail_s']:.2f}s"
        sim = "-" if fig["sim_cpu_ms_per_job"] is None else f"{fig['sim_cpu_ms_per_job']:.1f} ms"
        idle = f"{fig['idle_between_s']:.2f}s"
        busy = "-" if fig.get("busy_share") is None else f"{fig['busy_share']:.2f}"
        lines.append(f"  {design:<20}{span:>24}{fig['efficiency']:>7.2f}{fig['calibrated_efficiency']:>9.2f}"
                     f"{busy:>7}{idle:>10}{tail:>9}{fig['cpu_ms_per_job']:>9.1f} ms{sim:>10}")
    return lines


def _whole_jobs_matter(scenario: Dict[str, Any]) -> bool:
    """Does the whole-jobs bound say more than the calibrated one (by over 1 %: small groups)?"""
    whole = scenario.get("whole_jobs_bound_s")
    return whole is not None and whole > scenario["calibrated_bound_s"] * 1.01


def _whole(scenario: Dict[str, Any]) -> str:
    """The whole-jobs bound for the scenario's head line, where it matters."""
    if not _whole_jobs_matter(scenario):
        return ""
    whole, calibrated = scenario["whole_jobs_bound_s"], scenario["calibrated_bound_s"]
    return f", in whole jobs {whole:.2f} s (so no schedule exceeds cal.eff {calibrated / whole:.2f})"


def _goal_lines(scenarios: Dict[str, Dict[str, Any]]) -> List[str]:
    lines = []
    for name, scenario in scenarios.items():
        fastest = scenario["strategies"].get("pull-fastest")
        if fastest:
            ok = "met" if fastest["calibrated_efficiency"] >= GOAL_CALIBRATED else "NOT met"
            whole = (f"; against the whole-jobs bound {fastest['whole_jobs_efficiency']:.3f}"
                     if _whole_jobs_matter(scenario) else "")
            lines.append(f"goal pull-fastest calibrated_efficiency >= {GOAL_CALIBRATED} on {name}: "
                         f"{fastest['calibrated_efficiency']:.3f} ({ok}){whole}")
    headline = scenarios.get("farm-120", {}).get("strategies", {})
    if "push-round-robin" in headline and "pull-fastest" in headline:
        ratio = headline["push-round-robin"]["makespan_s"] / headline["pull-fastest"]["makespan_s"]
        ok = "met" if ratio >= GOAL_SPEEDUP else "NOT met"
        lines.append(f"goal pull-fastest >= {GOAL_SPEEDUP}x push-round-robin on farm-120: {ratio:.2f}x ({ok})")
    return lines


def _throughput_lines(throughput: Dict[str, Any]) -> List[str]:
    lines = [f"throughput ceiling (near-instant servers; goals >= {throughput['goal_jobs_per_s']:.0f} jobs/s, "
             f"<= {throughput['goal_client_cpu_ms_per_job']:.0f} ms client CPU per job):",
             f"  {'design':<20}{'jobs':>7}{'servers':>9}{'jobs/s':>9}{'client/job':>12}{'sim/job':>10}"]
    for run in throughput["runs"]:
        sim = "-" if run["sim_cpu_ms_per_job"] is None else f"{run['sim_cpu_ms_per_job']:.1f} ms"
        lines.append(f"  {run['design']:<20}{run['jobs']:>7}{run['servers']:>9}{run['jobs_per_s']:>9.1f}"
                     f"{run['client_cpu_ms_per_job']:>9.2f} ms{sim:>10}")
    return lines


def format_report(results: Dict[str, Any]) -> str:
    lines: List[str] = []
    if "strategies" in results:
        scenarios = results.get("scenarios") or {"farm-120": results}
        for name, scenario in scenarios.items():
            lines += _scenario_lines(name, scenario)
        lines += _goal_lines(scenarios)
    big = results.get("big_group")
    if big:
        lines.append(f"{big['jobs']}-job group: {big['held_mb']} MB held, {big['submit_cpu_ms_per_job']} ms CPU per "
                     f"job to submit; jobs finished in the first/second half of a fixed window: "
                     f"{big['completed_first_half']}/{big['completed_second_half']}")
    if "throughput" in results:
        lines += _throughput_lines(results["throughput"])
    return "\n".join(lines)
