"""Figures of one benchmark run, computed from what the servers themselves recorded.

Server-side execution start/end times come from each prompt's history (`execution_start` and
`execution_success` timestamps, milliseconds): an idle gap is the time a server waited between
finishing one of our jobs and starting the next.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple


@dataclass(frozen=True)
class RunFigures:
    makespan_s: float
    efficiency: float
    idle_gap_ms: Optional[float]
    cpu_ms_per_job: float
    jobs: int

    def to_json(self) -> Dict[str, Any]:
        return {"makespan_s": round(self.makespan_s, 3), "efficiency": round(self.efficiency, 3),
                "idle_gap_ms": None if self.idle_gap_ms is None else round(self.idle_gap_ms, 1),
                "cpu_ms_per_job": round(self.cpu_ms_per_job, 2)}


def execution_window(client: Any, prompt_id: str) -> Optional[Tuple[int, int]]:
    """(start_ms, end_ms) of a finished prompt from its history, None if unknown."""
    entry = client.history(prompt_id)
    if entry is None:
        return None
    start, end = getattr(entry, "started_ms", None), getattr(entry, "ended_ms", None)
    return (int(start), int(end)) if start is not None and end is not None else None


def median_idle_gap_ms(windows_by_server: Dict[str, Sequence[Tuple[int, int]]]) -> Optional[float]:
    gaps: List[float] = []
    for windows in windows_by_server.values():
        ordered = sorted(windows)
        gaps.extend(max(0, nxt[0] - cur[1]) for cur, nxt in zip(ordered, ordered[1:]))
    return statistics.median(gaps) if gaps else None


def lower_bound_s(jobs: int, seconds_per_job_at_speed_1: float, speeds: Sequence[float]) -> float:
    """Total work / total speed: no schedule on this farm can finish sooner."""
    return jobs * seconds_per_job_at_speed_1 / sum(speeds)
