"""`bench --temporal`'s report: the median of the repeats, their range, and where the chunks went."""

from __future__ import annotations

from typing import Any, Dict, List

from nuke_comfyui.bench.temporal import RUNS, _median, format_temporal


def _try(wall: float, spread: List[int], once: bool = True) -> Dict[str, Any]:
    return {"state": "completed", "wall_s": wall, "chunks": sum(spread), "frames_sent": 128,
            "frames_delivered": 100, "every_frame_once": once, "chunks_per_server": spread}


def test_the_median_run_is_reported_with_the_range_and_each_runs_placement() -> None:
    row = _median([_try(3.3, [3, 2, 2, 1]), _try(2.1, [2, 2, 2, 2]), _try(2.4, [2, 2, 2, 2], once=False)])
    assert row["wall_median_s"] == 2.4 and (row["wall_min_s"], row["wall_max_s"]) == (2.1, 3.3)
    assert row["chunks_per_server"] == [2, 2, 2, 2] and row["repeats"] == 3
    assert row["chunks_per_server_each_run"] == [[3, 2, 2, 1], [2, 2, 2, 2], [2, 2, 2, 2]]
    assert row["every_run_each_once"] is False  # one run lost a frame: the row says so


def test_the_table_prints_the_spread_over_servers_and_the_speed_up_of_the_medians() -> None:
    spreads = ([3, 2, 2, 1], [2, 2, 2, 2], [2, 2, 2, 2], [8], [1])
    runs = [{"label": label, **_median([_try(wall, spread)])}
            for (label, *_), wall, spread in zip(RUNS, (2.5, 2.0, 2.0, 6.0, 5.0), spreads)]
    assert len(runs) == len(RUNS) == 5
    text = format_temporal({"overhead": [], "runs": runs})
    fastest = next(line for line in text.splitlines() if line.startswith(RUNS[0][0]))
    assert "2.50 (2.50-2.50)" in fastest and "3,2,2,1" in fastest and fastest.rstrip().endswith("yes")
    assert "over one batch on one server: 2.00x (medians of 1)" in text
    assert "over one batch on one server: 2.50x (medians of 1)" in text
