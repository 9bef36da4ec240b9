"""The benchmark's named scenarios: the farms and workloads every dispatch design is measured on.

Each scenario is data: server speeds, job count, cost per job at speed 1, and optionally a server
that slows down halfway or a share of jobs that cost more. Work per job is scaled per scenario
so each one runs in seconds, not minutes; the calibrated bound accounts for the simulator's fixed
cost per job, which dominates where jobs are cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

PUSH = ("push-round-robin", "push-least-loaded")
PULL = ("pull-round-robin", "pull-least-loaded", "pull-priority", "pull-fastest")
ALL_DESIGNS = PUSH + PULL
HEADLINE = ("push-round-robin", "pull-fastest")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    speeds: Tuple[float, ...]
    jobs: int
    seconds_per_job: float  # at speed 1, before any heavy factor
    designs: Tuple[str, ...] = ALL_DESIGNS
    slow_server: Optional[int] = None  # index of the server that slows down ...
    slow_to: float = 1.0  # ... to this speed ...
    slow_at_fraction: float = 0.5  # ... once this fraction of the unslowed fluid bound has passed
    heavy_every: int = 0  # every K-th seed (sequential seeds: 1/K of the jobs) ...
    heavy_factor: float = 1.0  # ... costs this many times as much
    max_repeats: Optional[int] = None  # a scenario too long to repeat runs at most this often

    @property
    def mean_work(self) -> float:
        """Mean cost of one job at speed 1, heavy jobs included."""
        if self.heavy_every <= 0:
            return self.seconds_per_job
        share = 1.0 / self.heavy_every
        return self.seconds_per_job * (1 - share + share * self.heavy_factor)

    @property
    def slow_after_s(self) -> float:
        return self.slow_at_fraction * self.jobs * self.mean_work / sum(self.speeds)


FARM = (1.0, 1.0, 2.0, 4.0)
SIXTEEN = tuple(float(s) for s in list(range(1, 9)) * 2)

SUITE: Dict[str, Scenario] = {s.name: s for s in (
    Scenario("farm-120", "120 jobs on the 1,1,2,4 farm (the headline figure)", FARM, 120, 0.2),
    Scenario("farm-12", "12 jobs on the 1,1,2,4 farm: the end of a group is everything", FARM, 12, 0.2),
    Scenario("farm-1200", "1,200 jobs on the 1,1,2,4 farm", FARM, 1200, 0.05),
    Scenario("sixteen-1000", "16 servers of speeds 1-8, 1,000 jobs", SIXTEEN, 1000, 0.4),
    Scenario("slowdown", "the speed-4 server drops to speed 1 halfway", FARM, 120, 0.2, slow_server=3),
    Scenario("heavy-20pct", "20 % of the jobs cost 5x", FARM, 120, 0.2, heavy_every=5, heavy_factor=5.0),
    Scenario("hundred-10000", "100 servers x 10,000 jobs", (1.0,) * 100, 10_000, 0.5, designs=HEADLINE,
             max_repeats=1),
)}
