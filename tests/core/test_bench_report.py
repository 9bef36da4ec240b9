"""The benchmark's printed report: goals against the calibrated bound, and the whole-jobs bound beside
them only where jobs cannot be spread finely enough to reach it (a small group)."""

from __future__ import annotations

from typing import Any, Dict

from nuke_comfyui.bench.report import format_report


def _scenario(jobs: int, calibrated: float, whole: float, makespan: float) -> Dict[str, Any]:
    design = {"makespan_s": makespan, "makespan_min_s": makespan, "makespan_max_s": makespan,
              "efficiency": round(calibrated * 0.9 / makespan, 3),
              "calibrated_efficiency": round(calibrated / makespan, 3),
              "whole_jobs_efficiency": round(whole / makespan, 3), "cpu_ms_per_job": 3.0,
              "sim_cpu_ms_per_job": 4.0, "idle_between_s": 0.01, "max_tail_s": 0.1}
    return {"jobs": jobs, "speeds": [1, 1, 2, 4], "seconds_per_job_at_speed_1": 0.2,
            "lower_bound_s": calibrated * 0.9, "calibrated_bound_s": calibrated, "whole_jobs_bound_s": whole,
            "fixed_cost_ms": 6.0, "strategies": {"pull-fastest": design}}


def test_the_whole_jobs_bound_is_shown_where_it_caps_every_schedule() -> None:
    small = _scenario(12, calibrated=0.32, whole=0.39, makespan=0.48)
    large = _scenario(1200, calibrated=9.43, whole=9.44, makespan=10.0)
    text = format_report({"strategies": small["strategies"], "scenarios": {"farm-12": small, "farm-1200": large}})
    lines = text.splitlines()
    head_12 = next(line for line in lines if line.startswith("farm-12:"))
    head_1200 = next(line for line in lines if line.startswith("farm-1200:"))
    assert "in whole jobs 0.39 s (so no schedule exceeds cal.eff 0.82)" in head_12
    assert "whole jobs" not in head_1200  # within 1 %: nothing to add
    goal_12 = next(line for line in lines if line.startswith("goal") and "farm-12:" in line)
    assert f"0.667 (NOT met); against the whole-jobs bound {round(0.39 / 0.48, 3):.3f}" in goal_12
    goal_1200 = next(line for line in lines if line.startswith("goal") and "farm-1200:" in line)
    assert goal_1200.endswith("0.943 (NOT met)")  # three decimals: 0.947 never prints as 0.95
