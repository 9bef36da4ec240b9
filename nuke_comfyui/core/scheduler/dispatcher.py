"""Dispatch decisions: which waiting job goes to which server *now* (pure logic, no network).

Pull, don't push: jobs wait here, client-side, and a server is given one only while the pool
says it has room (`max_concurrent` running + 1 prefetched, other users' jobs counted) and its
strategy picks it. Cost per pass is O(jobs dispatched + groups + retried jobs), never O(jobs in
the group), and with a ServerPool never O(servers) either: choices go through a `LoadIndex`
(core/pool/load_index.py) that reads only the servers with room. Every group keeps a ready deque
of plain jobs that share one placement (so the head answers for all of them — if the head cannot
go anywhere now, neither can the rest) and a small deque of constrained jobs (retries with
exclusions or a VRAM floor) tried one by one.

`in_flight[server]` counts our prompts that occupy that server: dispatched and not finished,
including "zombies" (timed-out or cancelled prompts whose interrupt has not landed yet) so we
never pile work onto a server that is still busy with something we gave up on.
`running_since[server]` holds when each of our prompts running there started executing: `fastest`
counts what the oldest has already done, so a job queued behind it waits only for the rest.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Protocol, Set, Tuple

from nuke_comfyui.core.errors import NoCapableServer
from nuke_comfyui.core.pool.load_index import LoadIndex
from nuke_comfyui.core.scheduler.group import Group
from nuke_comfyui.core.scheduler.jobs import Job, JobState

log = logging.getLogger(__name__)

PlacementFactory = Callable[..., Any]


class Chooser(Protocol):
    """What the dispatcher needs from the pool (ServerPool satisfies it)."""

    def choose(self, request: Any, in_flight: Mapping[str, int], backlog: int = 1,
               running_s: Optional[Mapping[str, float]] = None) -> Optional[str]: ...

    def servers(self) -> List[Any]: ...


class Dispatcher:
    """Holds the waiting jobs of every group and decides placements with `pool.choose`."""

    def __init__(self, pool: Chooser, placement_factory: PlacementFactory) -> None:
        self._pool = pool
        self._make_placement = placement_factory
        self.groups: OrderedDict[str, Group] = OrderedDict()  # FIFO: older groups first
        self.in_flight: Dict[str, int] = {}
        self.running_since: Dict[str, Dict[str, float]] = {}  # server -> {prompt id: started executing}
        self.blocked: Set[str] = set()  # suspect servers (a job timed out there): no new work
        self.unready: Set[str] = set()  # servers whose event stream is still connecting
        self._base: Dict[str, Any] = {}  # group id -> shared Placement
        # The incremental chooser when the pool offers its facts feed (ServerPool does); else
        # every choice asks `pool.choose` with the in_flight counts (simple test pools).
        self._index: Optional[LoadIndex] = LoadIndex(pool) if hasattr(pool, "facts_since") else None

    # -- queues ----------------------------------------------------------------------------------

    def add_group(self, group: Group) -> None:
        self.groups[group.id] = group

    def remove_group(self, group_id: str) -> None:
        self.groups.pop(group_id, None)
        self._base.pop(group_id, None)

    def forget_placement(self, group_id: str) -> None:
        """Rebuild the group's shared placement on the next pass (its plan's strategy changed)."""
        self._base.pop(group_id, None)

    def enqueue(self, job: Job, *, front: bool = False) -> None:
        """Make a queued job available for dispatch (retries go to the front of their group)."""
        queue = job.group.constrained if job.constrained else job.group.ready
        if front:
            queue.appendleft(job)
        else:
            queue.append(job)

    def occupy(self, server: str) -> None:
        count = self.in_flight[server] = self.in_flight.get(server, 0) + 1
        if self._index is not None:
            self._index.set_ours(server, count)

    def release(self, server: str, prompt_id: Optional[str] = None) -> None:
        left = self.in_flight.get(server, 0) - 1
        if left > 0:
            self.in_flight[server] = left
        else:
            self.in_flight.pop(server, None)
        if self._index is not None:
            self._index.set_ours(server, max(0, left))
        running = self.running_since.get(server)
        if running is None:
            return
        if left <= 0:
            running.clear()  # nothing of ours is there: no stamp may outlive its prompt
        elif prompt_id is not None and prompt_id in running:
            del running[prompt_id]
        else:
            return
        self._running_changed(server)

    def started(self, server: str, prompt_id: str, at: float) -> None:
        """Our prompt `prompt_id` started executing on `server` at `at` (time.monotonic)."""
        self.running_since.setdefault(server, {})[prompt_id] = at
        self._running_changed(server)

    def rekey(self, server: str, ours: str, theirs: str) -> None:
        """The server named our prompt `theirs` (servers before 0.3.45): keep its start stamp."""
        running = self.running_since.get(server)
        if running is not None and ours in running:
            running[theirs] = running.pop(ours)

    def _running_changed(self, server: str) -> None:
        running = self.running_since.get(server)
        if not running:
            self.running_since.pop(server, None)
        if self._index is not None:
            self._index.set_running_since(server, min(running.values()) if running else None)

    def running_s(self, now: float) -> Dict[str, float]:
        """Seconds our oldest running prompt on each server has run."""
        return {server: max(0.0, now - min(stamps.values())) for server, stamps in self.running_since.items() if stamps}

    # -- decisions -------------------------------------------------------------------------------

    def pick(self) -> Tuple[List[Tuple[Job, str]], List[Tuple[Job, str]]]:
        """Choose servers for as many waiting jobs as have room now.

        Returns `(placed, impossible)`: `(job, server)` pairs to send (already counted in
        `in_flight`), and `(job, reason)` pairs that no server can ever take (the caller fails them).
        """
        placed: List[Tuple[Job, str]] = []
        impossible: List[Tuple[Job, str]] = []
        if self._index is not None:
            self._index.refresh()
            self._index.set_held(self.blocked | self.unready)
        for group in list(self.groups.values()):
            if group.cancel_requested:
                continue
            self._pick_constrained(group, placed, impossible)
            self._pick_ready(group, placed)
        return placed, impossible

    def _pick_constrained(self, group: Group, placed: List[Tuple[Job, str]],
                          impossible: List[Tuple[Job, str]]) -> None:
        for _ in range(len(group.constrained)):
            job = group.constrained.popleft()
            if job.state is not JobState.QUEUED:
                continue
            if not job.constrained:  # exclusions were lifted
                group.ready.appendleft(job)
                continue
            try:
                server = self._choose(self._placement(group, job))
            except NoCapableServer as exc:
                if job.min_vram is None and job.exclude:
                    # Every other server is excluded too: give the excluded ones another chance.
                    log.info("job %s: every capable server is excluded; lifting exclusions", job.id)
                    job.exclude = None
                    group.ready.appendleft(job)
                else:
                    impossible.append((job, str(exc)))
                continue
            if server is None:
                group.constrained.append(job)
                continue
            self.occupy(server)
            placed.append((job, server))

    def _pick_ready(self, group: Group, placed: List[Tuple[Job, str]]) -> None:
        ready = group.ready
        while ready:
            job = ready[0]
            if job.state is not JobState.QUEUED:
                ready.popleft()
                continue
            if job.constrained:
                group.constrained.append(ready.popleft())
                continue
            try:
                server = self._choose(self._base_placement(group), backlog=len(ready))
            except NoCapableServer as exc:
                # Servers may be re-enabled or come back: keep the jobs waiting (starvation.py
                # says why, once, and fails them if nothing changes in time).
                group.waiting_reason = str(exc)
                return
            group.waiting_reason = None
            if server is None:
                return
            ready.popleft()
            self.occupy(server)
            placed.append((job, server))

    def _choose(self, placement: Any, backlog: int = 1) -> Optional[str]:
        if self._index is not None:
            return self._index.choose(placement, backlog)
        in_flight: Mapping[str, int] = self.in_flight
        held = self.blocked | self.unready
        if held:  # a suspect or not yet listening server looks full, so nothing new goes there
            in_flight = {**self.in_flight, **{name: 1 << 20 for name in held}}
        return self._pool.choose(placement, in_flight, backlog, self.running_s(time.monotonic()))

    def _base_placement(self, group: Group) -> Any:
        base = self._base.get(group.id)
        if base is None:
            base = self._base[group.id] = self.placement_for(group.plan)
        return base

    def placement_for(
        self, plan: Any, exclude: Optional[Set[str]] = None, min_vram: Optional[int] = None
    ) -> Any:
        """The pool Placement for a group's plan (plus a job's exclusions and VRAM floor)."""
        args = _placement_args(plan, exclude, min_vram)
        subset = getattr(plan, "servers", None)
        if subset:  # a request limited to some servers: every other one is excluded
            args["exclude"] |= {s.name for s in self._pool.servers()} - set(subset)
        return self._make_placement(**args)

    def _placement(self, group: Group, job: Job) -> Any:
        """The job's placement; NoCapableServer when every server it may use already failed it.

        "May use" is the enabled servers within the request's subset (`--servers`): counting the
        others would leave the job excluded from its only servers and waiting for ever.
        """
        exclude: Set[str] = set(job.exclude or ())
        allowed = _enabled_names(self._pool.servers())
        subset = getattr(group.plan, "servers", None)
        if subset:
            allowed &= set(subset)
        if exclude and allowed and allowed <= exclude:
            raise NoCapableServer(
                f"job {job.id}: every server it may use ({', '.join(sorted(allowed))}) already failed it"
            )
        return self.placement_for(group.plan, exclude, job.min_vram)


def _placement_args(plan: Any, exclude: Optional[Set[str]], min_vram: Optional[int]) -> Dict[str, Any]:
    spec = getattr(plan, "placement", None) or {}
    return {
        "class_types": set(spec.get("class_types", ())),
        "job_type": spec.get("job_type"),
        "duration_key": spec.get("duration_key", ""),
        "strategy": spec.get("strategy"),
        "exclude": set(exclude or ()),
        "min_vram": min_vram,
        **({"any_of": tuple(spec["any_of"])} if spec.get("any_of") else {}),
    }


def _enabled_names(servers: Iterable[Any]) -> Set[str]:
    return {s.name for s in servers if getattr(s, "enabled", True)}
