"""Figures of one benchmark run, computed from what the servers themselves recorded.

Server-side execution start/end times come from each prompt's history (`execution_start` and
`execution_success` timestamps, milliseconds). Per server the report gives the idle time between
its jobs (the GPU waited for the dispatcher) and the tail after its last job (the server had
nothing left while the group was still running: work was stranded elsewhere). `busy_share` is
the part of servers x makespan the servers spent executing our jobs: what the dispatcher
achieved whatever each job cost on the test bed, so it stays comparable when the simulator's
fixed cost per job grows under a run's load beyond what the calibration measured.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

Window = Tuple[int, int]  # (start_ms, end_ms) on the servers' clock (the same machine's wall clock)


@dataclass(frozen=True)
class ServerIdle:
    jobs: int
    idle_between_s: float
    tail_s: Optional[float]  # None for a server that got no job
    busy_s: float = 0.0  # executing our jobs

    def to_json(self) -> Dict[str, Any]:
        tail = None if self.tail_s is None else round(self.tail_s, 3)
        return {"jobs": self.jobs, "idle_between_s": round(self.idle_between_s, 3), "tail_s": tail}


def execution_window(client: Any, prompt_id: str) -> Optional[Window]:
    """(start_ms, end_ms) of a finished prompt from its history, None if unknown."""
    entry = client.history(prompt_id)
    if entry is None:
        return None
    start, end = getattr(entry, "started_ms", None), getattr(entry, "ended_ms", None)
    return (int(start), int(end)) if start is not None and end is not None else None


def idle_per_server(windows_by_server: Dict[str, Sequence[Window]], servers: Sequence[str],
                    group_end_ms: float) -> Dict[str, ServerIdle]:
    """Idle time between each server's jobs and its tail after its last one (a server with no job: all tail)."""
    figures: Dict[str, ServerIdle] = {}
    for name in servers:
        ordered = sorted(windows_by_server.get(name, ()))
        between = sum(max(0, nxt[0] - cur[1]) for cur, nxt in zip(ordered, ordered[1:])) / 1000
        last_end = ordered[-1][1] if ordered else None
        tail = max(0.0, (group_end_ms - last_end) / 1000) if last_end is not None else None
        busy = sum(end - start for start, end in ordered) / 1000
        figures[name] = ServerIdle(len(ordered), between, tail, busy)
    return figures


@dataclass(frozen=True)
class RunFigures:
    """One run of one design."""

    makespan_s: float
    client_cpu_s: float
    sim_cpu_s: Optional[float]
    jobs: int
    idle: Dict[str, ServerIdle]


def summarize(runs: List[RunFigures], bound: float, calibrated_bound: float,
              whole_jobs_bound: Optional[float] = None) -> Dict[str, Any]:
    """The median run's figures (by makespan) with min and max over the repeats."""
    ordered = sorted(runs, key=lambda r: r.makespan_s)
    median = ordered[(len(ordered) - 1) // 2]
    makespans = [r.makespan_s for r in runs]
    middle = statistics.median(makespans)
    busy_tails = [i.tail_s for i in median.idle.values() if i.tail_s is not None]
    return {
        "makespan_s": round(middle, 3),
        "makespan_min_s": round(min(makespans), 3),
        "makespan_max_s": round(max(makespans), 3),
        "repeats": len(runs),
        "efficiency": round(bound / middle, 3),
        "calibrated_efficiency": round(calibrated_bound / middle, 3),
        "whole_jobs_efficiency": round((whole_jobs_bound or calibrated_bound) / middle, 3),
        "cpu_ms_per_job": round(statistics.median(r.client_cpu_s for r in runs) * 1000 / median.jobs, 2),
        "sim_cpu_ms_per_job": _sim_cpu(runs),
        "idle_between_s": round(sum(i.idle_between_s for i in median.idle.values()), 3),
        "busy_share": _busy_share(median),
        "max_tail_s": round(max(busy_tails), 3) if busy_tails else None,
        "idle_servers": sum(1 for i in median.idle.values() if not i.jobs),
        "servers": {name: i.to_json() for name, i in median.idle.items()} if len(median.idle) <= 16 else None,
    }


def _busy_share(run: RunFigures) -> Optional[float]:
    if not run.idle or run.makespan_s <= 0:
        return None
    return round(sum(i.busy_s for i in run.idle.values()) / (len(run.idle) * run.makespan_s), 3)


def _sim_cpu(runs: Sequence[RunFigures]) -> Optional[float]:
    values = [r.sim_cpu_s * 1000 / r.jobs for r in runs if r.sim_cpu_s is not None]
    return round(statistics.median(values), 2) if values else None
