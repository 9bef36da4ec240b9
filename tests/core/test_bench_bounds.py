"""The benchmark's lower bounds: the fluid bound is total work / total speed; fixed costs and a slowdown lengthen it."""

from __future__ import annotations

import pytest

from nuke_comfyui.bench.bounds import ServerShape, bound_s


def test_fluid_bound_is_total_work_over_total_speed():
    farm = [ServerShape(1), ServerShape(1), ServerShape(2), ServerShape(4)]
    assert bound_s(120, 0.2, farm) == pytest.approx(120 * 0.2 / 8, abs=1e-5)


def test_fixed_cost_per_job_lengthens_the_bound_by_its_share():
    one = [ServerShape(1.0, fixed_s=0.05)]
    assert bound_s(10, 0.2, one) == pytest.approx(10 * 0.25, abs=1e-5)
    farm = [ServerShape(1, fixed_s=0.01), ServerShape(4, fixed_s=0.01)]
    rate = 1 / 0.21 + 1 / 0.06
    assert bound_s(100, 0.2, farm) == pytest.approx(100 / rate, abs=1e-5)


def test_a_slowdown_counts_from_its_time():
    # speed 4 for 1 s (20 jobs of 0.2 s), then speed 1: the other 10 jobs take 2 s more
    assert bound_s(30, 0.2, [ServerShape(4, slow_to=1, slow_after_s=1.0)]) == pytest.approx(3.0, abs=1e-5)
    # a slowdown after the work is done changes nothing
    assert bound_s(10, 0.2, [ServerShape(4, slow_to=1, slow_after_s=5.0)]) == pytest.approx(0.5, abs=1e-5)


def test_nothing_to_do_takes_no_time():
    assert bound_s(0, 0.2, [ServerShape(1)]) == 0.0


def test_idle_between_jobs_and_tail_after_the_last_one_per_server():
    from nuke_comfyui.bench.measure import idle_per_server

    windows = {"a": [(2000, 3000), (1000, 1500)], "b": [(1000, 4000)]}
    idle = idle_per_server(windows, ["a", "b", "c"], group_end_ms=5000)
    assert (idle["a"].jobs, idle["a"].idle_between_s, idle["a"].tail_s) == (2, 0.5, 2.0)
    assert (idle["b"].idle_between_s, idle["b"].tail_s) == (0.0, 1.0)
    assert idle["c"].jobs == 0 and idle["c"].tail_s is None  # a server that got nothing has no tail


def test_summary_is_the_median_run_with_min_and_max():
    from nuke_comfyui.bench.measure import RunFigures, ServerIdle, summarize

    idle = {"a": ServerIdle(10, 0.1, 0.2)}
    runs = [RunFigures(span, 0.5, 0.2, 10, idle) for span in (4.0, 2.0, 3.0)]
    summary = summarize(runs, bound=2.4, calibrated_bound=2.7)
    assert (summary["makespan_s"], summary["makespan_min_s"], summary["makespan_max_s"]) == (3.0, 2.0, 4.0)
    assert summary["efficiency"] == 0.8 and summary["calibrated_efficiency"] == 0.9
    assert summary["cpu_ms_per_job"] == 50.0 and summary["sim_cpu_ms_per_job"] == 20.0
