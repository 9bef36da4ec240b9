"""Server selection strategies as pure functions over candidate snapshots (easy to test and to bench).

Pull-based dispatch: the scheduler asks "who should take this job now?" each time a job is ready
or a slot frees. A server has room while our jobs plus other users' queued jobs on it are fewer
than `max_concurrent + 1` (one prefetched so the GPU never idles between jobs).

- round-robin: servers with room, in turn.
- least-loaded: servers with room, fewest jobs ahead per slot.
- priority: highest `priority` with room, then least-loaded.
- fastest: the server with room expected to *finish* the job soonest = (jobs ahead + 1) x its
  learned duration, less what its running job of ours has already done (`running_s`): a job queued
  behind one that has run most of its time starts soon, one queued behind a job that just started
  waits a whole duration. Without that head start a prefetch behind a long job that just began
  looked as good as a slot about to free on another server, and a group of long jobs (frame-batch
  chunks) piled its last ones behind the first server measured while the others went idle.
  Near the end of a group it may answer "wait" (None): when the jobs still
  waiting (`backlog`) would all be finished by the other servers before the best free server could
  finish this one, sending it to that slow server only makes the group end later. With a long
  backlog every server is kept busy, so slow servers still add their throughput. A server never
  measured gets no prefetched job (at most `max_concurrent` of ours): until its first job ends
  its speed is unknown, and a job queued behind a slow server's first one is the group's last to
  finish (12 jobs on a 1,1,2,4 farm: the best schedule gives each speed-1 server one job, not two).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

STRATEGIES = ("round-robin", "least-loaded", "priority", "fastest")


@dataclass(frozen=True)
class Candidate:
    """One eligible server as a strategy sees it."""

    name: str
    ours: int  # our jobs dispatched there and not finished
    others: int  # other users' jobs in its queue (running + pending)
    max_concurrent: int = 1
    priority: int = 0
    expected_s: Optional[float] = None  # learned duration of this workflow there; None = never measured
    #: seconds our oldest running job there has been executing (0: none of ours runs there); the
    #: first slot to free is that job's, so a job queued now waits only for what is left of it
    running_s: float = 0.0

    @property
    def ahead(self) -> int:
        return self.ours + self.others

    @property
    def has_room(self) -> bool:
        """Room for one more of ours: fewer than `max_concurrent + 1` jobs ahead, or none of ours there.

        The second rule is the fair share between artists on the same servers, with no central
        service: every client may always keep one prompt in a server's queue, so ComfyUI's
        first-in-first-out order alternates the clients instead of letting the one that refills
        fastest (on its completion event) take every slot.
        """
        if self.ours >= self.max_concurrent + 1:
            return False
        return self.ahead < self.max_concurrent + 1 or self.ours == 0

    @property
    def load(self) -> float:
        return self.ahead / max(1, self.max_concurrent)

    def per_job(self, optimistic_s: float) -> float:
        """Expected seconds of one job here (the optimistic guess while never measured)."""
        return self.expected_s if self.expected_s is not None else optimistic_s

    def finish_estimate(self, optimistic_s: float) -> float:
        """Seconds until a new job sent now would be done here: whole waves of jobs, less the part
        of the first wave's running job already done when the new job must wait for a slot."""
        per_job = self.per_job(optimistic_s)
        return finish_estimate(self.ahead, self.max_concurrent, per_job, self.running_s)


def choose(strategy: str, candidates: Sequence[Candidate], turn: int = 0, backlog: int = 1) -> Optional[str]:
    """Name of the server to send the job to now, or None to keep it waiting client-side.

    `backlog` is how many jobs (this one included) wait client-side for these servers.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if strategy == "fastest":
        return _fastest(candidates, max(1, backlog))
    roomy = [c for c in candidates if c.has_room]
    if not roomy:
        return None
    if strategy == "round-robin":
        return sorted(roomy, key=lambda c: c.name)[turn % len(roomy)].name
    if strategy == "priority":
        return min(roomy, key=lambda c: (-c.priority, c.load, c.name)).name
    return min(roomy, key=lambda c: (c.load, c.name)).name


def fastest_room(candidate: Candidate) -> bool:
    """Room as `fastest` sees it: `has_room`, and no prefetch on a server never measured."""
    return candidate.has_room and not prefetch_unmeasured(candidate.expected_s, candidate.ours,
                                                          candidate.max_concurrent)


def head_start(ahead: int, max_concurrent: int, per_job: float, running_s: float) -> float:
    """Seconds of the running job's expected time that a job queued now need not wait for: none
    while a slot is free (it starts at once), else what our oldest running job has run, at most one
    job. A job running past its expected time is expected to need as long again as it has overrun
    (the head start shrinks, then turns negative): a hung server never looks about to free."""
    if ahead < max(1, max_concurrent):
        return 0.0
    return per_job - abs(per_job - running_s)


def finish_estimate(ahead: int, max_concurrent: int, per_job: float, running_s: float) -> float:
    """`Candidate.finish_estimate` on plain values (the dispatcher's LoadIndex computes the same
    floats without building Candidates)."""
    waves = ahead // max(1, max_concurrent) + 1
    return waves * per_job - head_start(ahead, max_concurrent, per_job, running_s)


def prefetch_unmeasured(expected_s: Optional[float], ours: int, max_concurrent: int) -> bool:
    """Would one more job of ours be a prefetch onto a server never measured? (`fastest` says no.)
    On plain values, so the dispatcher's LoadIndex applies the same rule without a Candidate."""
    return expected_s is None and ours >= max_concurrent


def _fastest(candidates: Sequence[Candidate], backlog: int) -> Optional[str]:
    roomy = [c for c in candidates if fastest_room(c)]
    if not roomy:
        return None
    known = [c.expected_s for c in candidates if c.expected_s is not None]
    optimistic = min(known) if known else 0.0  # unmeasured servers look fast, so they get explored
    best = min(roomy, key=lambda c: (c.finish_estimate(optimistic), c.expected_s is not None, c.load, c.name))
    finish_here = best.finish_estimate(optimistic)
    others = [c for c in candidates if c is not best]
    if not others or not any(c.finish_estimate(optimistic) < finish_here for c in others):
        return best.name
    # Could the other servers clear everything waiting (and what they already hold, less what their
    # running jobs have done) before `best` would finish this job? Then holding it back finishes
    # the group sooner.
    rate = sum(c.max_concurrent / max(c.per_job(optimistic), 1e-6) for c in others)
    clear_time = (backlog + sum(c.ahead - done_share(c.ahead, c.max_concurrent, c.per_job(optimistic), c.running_s)
                                for c in others)) / rate
    return best.name if finish_here <= clear_time else None


def done_share(ahead: int, max_concurrent: int, per_job: float, running_s: float) -> float:
    """The share of one job a server's head start is worth (at most 1), for the hold-back rule's count
    of the work the other servers still hold."""
    return head_start(ahead, max_concurrent, per_job, running_s) / max(per_job, 1e-6)
