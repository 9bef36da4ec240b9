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


def test_whole_jobs_on_a_small_group_cannot_reach_the_fluid_bound():
    from nuke_comfyui.bench.bounds import whole_jobs_bound_s

    farm = [ServerShape(1), ServerShape(1), ServerShape(2), ServerShape(4)]
    # completions: speed 4 every 0.05 s, speed 2 every 0.1 s, speed 1 every 0.2 s; the 12th is 0.35
    assert whole_jobs_bound_s(12, 0.2, farm) == pytest.approx(0.35)
    assert bound_s(12, 0.2, farm) == pytest.approx(0.30, abs=1e-5)
    with_fixed = [ServerShape(s.speed, fixed_s=0.006) for s in farm]
    assert whole_jobs_bound_s(12, 0.2, with_fixed) == pytest.approx(7 * 0.056)  # the speed-4 server's 7th
    # many jobs: the whole-jobs bound closes in on the fluid one
    assert whole_jobs_bound_s(1200, 0.2, farm) == pytest.approx(bound_s(1200, 0.2, farm), rel=0.01)


def test_whole_jobs_follow_a_slowdown_and_heavy_jobs_get_the_sure_bound():
    from nuke_comfyui.bench.bounds import completions, whole_jobs_bound_s

    slowing = ServerShape(4, slow_to=1, slow_after_s=0.3)
    stream = completions(slowing, 0.2)
    # 0.05 ... 0.30 at speed 4, then one job straddles nothing and takes 0.2 s at speed 1
    assert [round(next(stream), 3) for _ in range(8)] == [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 0.7]
    straddling = completions(ServerShape(4, slow_to=1, slow_after_s=0.075), 0.2)
    assert next(straddling) == pytest.approx(0.05) and next(straddling) == pytest.approx(0.075 + 0.1)
    farm = [ServerShape(1), ServerShape(4)]
    # a job of 4 s of work needs 1 s even on the speed-4 server, more than the fluid 10 * 0.2 / 5
    assert whole_jobs_bound_s(10, 0.2, farm, largest_work=4.0) == pytest.approx(1.0)
    assert whole_jobs_bound_s(10, 0.2, farm, largest_work=0.2) == pytest.approx(bound_s(10, 0.2, farm))


def test_busy_share_is_execution_time_over_servers_times_makespan():
    from nuke_comfyui.bench.measure import RunFigures, idle_per_server, summarize

    windows = {"a": [(0, 1000), (1000, 2000)], "b": [(0, 500)]}  # a busy 2 s, b 0.5 s, of a 2 s group
    idle = idle_per_server(windows, ["a", "b"], group_end_ms=2000)
    assert idle["a"].busy_s == 2.0 and idle["b"].busy_s == 0.5
    summary = summarize([RunFigures(2.0, 0.1, None, 3, idle)], bound=1.0, calibrated_bound=1.0)
    assert summary["busy_share"] == round(2.5 / 4, 3)
