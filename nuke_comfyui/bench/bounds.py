"""Lower bounds on a farm's makespan: what no schedule can beat, with and without test-bed overhead.

Two bounds per scenario, so scheduling loss and test-bed overhead are told apart:
- the fluid bound: the total work spread perfectly over the servers' speeds (what `efficiency`
  compares with, as before);
- the calibrated bound: the same fluid schedule, but every job also pays the fixed cost per job
  that the calibration run measured on each server (the simulator's own HTTP, validation, image
  encoding and history work, which does not scale with speed). `calibrated_efficiency` compares
  with it: 1.0 means the dispatcher lost nothing on this test bed.

A third, `whole_jobs_bound_s`, is what any schedule can reach when jobs cannot be split: with
jobs of equal cost the best schedule is exactly the `jobs`-th earliest of all the servers'
back-to-back completion times, so on a small group (12 jobs on four servers) it lies well above
the fluid bound and no dispatcher can reach a calibrated efficiency of 1.0. Where jobs differ in
cost (heavy jobs) only a weaker bound is exact: the largest job alone on its best server.

All allow a server's speed to change once (the slowdown scenario). A job of mean cost `work`
takes work / speed + fixed seconds on a server, so server i completes jobs at the rate
1 / (work / s_i(t) + f_i); the bound is the time T at which the servers together have completed
`jobs` jobs. With every f_i = 0 this is exactly total work / total speed.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence


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


def completions(server: ServerShape, work: float) -> Iterator[float]:
    """The times at which `server`, never idle, finishes its 1st, 2nd, ... job of cost `work`.

    Each job pays the fixed cost, then its work at the speed of the moment (split across a
    slowdown when it straddles one).
    """
    t = 0.0
    while True:
        t += server.fixed_s
        if server.slow_to is None or t >= server.slow_after_s:
            speed = server.slow_to if server.slow_to is not None else server.speed
            t += work / speed
        elif (server.slow_after_s - t) * server.speed >= work:
            t += work / server.speed
        else:
            left = work - (server.slow_after_s - t) * server.speed
            t = server.slow_after_s + left / server.slow_to
        yield t


def whole_jobs_bound_s(jobs: int, work_per_job: float, servers: Sequence[ServerShape],
                       largest_work: Optional[float] = None) -> float:
    """The earliest time `jobs` whole jobs can all be done: exact for jobs of equal cost.

    With `largest_work` (jobs of unequal cost, mean `work_per_job`) the exact optimum is a hard
    problem, so this gives the bound that is sure: the fluid one with fixed costs, or the largest
    job alone on the server that finishes it soonest, whichever is later.
    """
    if jobs <= 0 or not servers:
        return 0.0
    if largest_work is not None:
        alone = min(next(completions(s, largest_work)) for s in servers)
        return max(bound_s(jobs, work_per_job, servers), alone)
    streams = [completions(s, work_per_job) for s in servers]
    heap = [(next(stream), index) for index, stream in enumerate(streams)]
    heapq.heapify(heap)
    for _ in range(jobs - 1):
        _, index = heapq.heappop(heap)
        heapq.heappush(heap, (next(streams[index]), index))
    return heap[0][0]
