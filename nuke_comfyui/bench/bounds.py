"""Lower bounds on a farm's makespan: what no schedule can beat, with and without test-bed overhead.

Two bounds per scenario, so scheduling loss and test-bed overhead are told apart:
- the fluid bound: the total work spread perfectly over the servers' speeds (what `efficiency`
  compares with, as before);
- the calibrated bound: the same fluid schedule, but every job also pays the fixed cost per job
  that the calibration run measured on each server (the simulator's own HTTP, validation, image
  encoding and history work, which does not scale with speed). `calibrated_efficiency` compares
  with it: 1.0 means the dispatcher lost nothing on this test bed.

Both allow a server's speed to change once (the slowdown scenario). A job of mean cost `work`
takes work / speed + fixed seconds on a server, so server i completes jobs at the rate
1 / (work / s_i(t) + f_i); the bound is the time T at which the servers together have completed
`jobs` jobs. With every f_i = 0 this is exactly total work / total speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence


@dataclass(frozen=True)
class ServerShape:
    """One server as the bound sees it: its speed, an optional slowdown, its fixed cost per job."""

    speed: float
    slow_to: Optional[float] = None
    slow_after_s: float = 0.0
    fixed_s: float = 0.0

    def jobs_done_by(self, t: float, work: float) -> float:
        """Jobs of mean cost `work` (speed-1 seconds) this server completes in t seconds, fluidly."""
        def rate(speed: float) -> float:
            return 1.0 / (work / speed + self.fixed_s)

        if self.slow_to is None or t <= self.slow_after_s:
            return t * rate(self.speed)
        return self.slow_after_s * rate(self.speed) + (t - self.slow_after_s) * rate(self.slow_to)


def bound_s(jobs: int, work_per_job: float, servers: Sequence[ServerShape]) -> float:
    """The earliest time `jobs` jobs of mean cost `work_per_job` can all be done (bisection, 1 µs)."""
    if jobs <= 0 or not servers:
        return 0.0
    low, high = 0.0, 1.0
    while sum(s.jobs_done_by(high, work_per_job) for s in servers) < jobs:
        high *= 2
    while high - low > 1e-6:
        middle = (low + high) / 2
        if sum(s.jobs_done_by(middle, work_per_job) for s in servers) >= jobs:
            high = middle
        else:
            low = middle
    return high
