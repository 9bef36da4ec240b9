"""The dispatcher's incremental view of the farm: `choose` at a cost independent of the server count.

`ServerPool.choose` answers from scratch, reading every server (about 4 µs each): on a 100-server
farm that was 0.4 ms per dispatch attempt, several per event. This index keeps, per server, our
jobs there (told by the dispatcher as they change), other users' jobs and slots (read from the
pool's facts feed as they change), and the set of servers that have room now. Per placement it
caches the fit servers (until the pool's eligibility epoch moves) with running sums of slots and
jobs ahead. A choice then reads only the servers with room — on a busy farm, the few whose slot
just freed — and gives the answer `strategies.choose` would give over every server:

- round-robin, least-loaded, priority only ever pick among servers with room: same candidates;
- fastest's "hold it back near the end" rule also reads every other server (their speed, queue
  and how long their running job has run). While a long backlog waits it cannot hold back, and a
  bound from the running sums and the smallest duration ever learned (`DurationBook.floor`), less
  at most one job per server for the head starts of running jobs, proves that in O(1); when the farm has
  room to spare, "no full server would be faster" is read off the few full servers instead. Only
  when neither shows it (a group's last jobs, servers never measured yet) is every server read.

So a choice costs O(servers with room) — few on a busy farm; all of them only while the client
cannot keep the farm busy, at a fraction of a microsecond each. Not thread-safe: the dispatcher
calls it under the scheduler's lock.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Set

from nuke_comfyui.core.pool.placement import Eligibility, Placement
from nuke_comfyui.core.pool.strategies import Candidate, choose, done_share, finish_estimate, prefetch_unmeasured

#: how an unusable (suspect or not yet listening) server looks to the strategies: full
HELD_LOAD = 1 << 20
_MAX_TABLES = 64  # placements cached at once (each group's, plus retries' exclusion sets)


class _Load:
    """One server as the index sees it."""

    __slots__ = ("held", "max_concurrent", "name", "online", "others", "ours", "priority", "tables")

    def __init__(self, name: str) -> None:
        self.name = name
        self.ours = 0
        self.held = False
        self.others = 0
        self.max_concurrent = 1
        self.priority = 0
        self.online = False
        self.tables: List[_Table] = []

    @property
    def counted_ours(self) -> int:
        return HELD_LOAD if self.held else self.ours

    @property
    def ahead(self) -> int:
        return self.counted_ours + self.others

    def candidate(self, expected_s: Optional[float] = None) -> Candidate:
        return Candidate(name=self.name, ours=self.counted_ours, others=self.others,
                         max_concurrent=self.max_concurrent, priority=self.priority, expected_s=expected_s)

    def has_room(self) -> bool:
        return self.online and self.candidate().has_room


class _Table:
    """The fit servers of one placement, with sums over the online ones (kept as loads change)."""

    __slots__ = ("ahead", "count", "fit", "slots")

    def __init__(self, fit: Eligibility) -> None:
        self.fit: FrozenSet[str] = fit.fit
        self.count = 0  # online fit servers
        self.slots = 0  # their max_concurrent summed
        self.ahead = 0  # jobs ahead on them (ours as the strategies count them, plus others')

    def add(self, load: _Load, sign: int) -> None:
        self.count += sign
        self.slots += sign * load.max_concurrent
        self.ahead += sign * load.ahead


class LoadIndex:
    """Incremental `choose` for one dispatcher over one pool (see the module docstring)."""

    def __init__(self, pool: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self._pool = pool
        self._clock = clock  # the clock of `set_running_since` (time.monotonic, as the scheduler's)
        self._since: Dict[str, float] = {}  # server -> when our oldest job running there started
        self._loads: Dict[str, _Load] = {}
        self._roomy: Dict[str, None] = {}  # servers with room now (an ordered set)
        self._full: Dict[str, None] = {}  # online servers without room now
        self._tables: Dict[Placement, _Table] = {}
        self._version = 0
        self._epoch: Optional[int] = None
        self._held: Set[str] = set()
        self._turn = 0

    # -- keeping up --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Take in the pool's changes since the last refresh (once per dispatcher pass)."""
        version, epoch, changed = self._pool.facts_since(self._version)
        self._version = version
        if epoch != self._epoch:
            self._epoch = epoch
            self._drop_tables()
        for facts in changed:
            self._change(self._load(facts.name), online=facts.online, others=facts.others,
                         max_concurrent=facts.max_concurrent, priority=facts.priority)

    def set_ours(self, server: str, count: int) -> None:
        """Our jobs occupying `server` now (the dispatcher's in_flight)."""
        load = self._load(server)
        if load.ours != count:
            self._change(load, ours=count)

    def set_running_since(self, server: str, since: Optional[float]) -> None:
        """When our oldest job running on `server` started executing (None: none of ours runs there).
        Read only by fastest, at choice time, so it changes no cached sums."""
        if since is None:
            self._since.pop(server, None)
        else:
            self._since[server] = since

    def _running_s(self, name: str, now: float) -> float:
        since = self._since.get(name)
        return 0.0 if since is None else max(0.0, now - since)

    def set_held(self, servers: Set[str]) -> None:
        """Servers that must get no new work now (suspects, streams still connecting): they look full."""
        if servers == self._held:
            return
        for name in self._held ^ servers:
            self._change(self._load(name), held=name in servers)
        self._held = set(servers)

    def _load(self, name: str) -> _Load:
        load = self._loads.get(name)
        if load is None:
            load = self._loads[name] = _Load(name)
        return load

    def _change(self, load: _Load, **values: Any) -> None:
        if load.online:
            for table in load.tables:
                table.add(load, -1)
        for key, value in values.items():
            setattr(load, key, value)
        if load.online:
            for table in load.tables:
                table.add(load, +1)
        if load.has_room():
            self._roomy[load.name] = None
            self._full.pop(load.name, None)
        else:
            self._roomy.pop(load.name, None)
            if load.online:
                self._full[load.name] = None
            else:
                self._full.pop(load.name, None)

    def _drop_tables(self) -> None:
        self._tables.clear()
        for load in self._loads.values():
            load.tables.clear()

    def _table(self, placement: Placement) -> _Table:
        table = self._tables.get(placement)
        if table is None:
            fit: Eligibility = self._pool.eligibility(placement)
            fit.check()  # NoCapableServer: no server can ever run it (as things stand)
            if len(self._tables) >= _MAX_TABLES:
                self._drop_tables()
            table = self._tables[placement] = _Table(fit)
            for name in fit.fit:
                load = self._load(name)
                load.tables.append(table)
                if load.online:
                    table.add(load, +1)
        return table

    # -- choosing ------------------------------------------------------------------------------------

    def choose(self, placement: Placement, backlog: int = 1) -> Optional[str]:
        """What `ServerPool.choose(placement, in_flight, backlog)` would answer, in O(servers with room)."""
        strategy = placement.strategy or self._pool.cluster.strategy
        table = self._table(placement)
        roomy = [self._loads[name] for name in self._roomy if name in table.fit]
        if strategy != "fastest" or not roomy:
            chosen = choose(strategy, [load.candidate() for load in roomy], self._turn, backlog)
            if chosen is not None and strategy == "round-robin":
                self._turn += 1
            return chosen
        return self._fastest(placement, table, roomy, max(1, backlog))

    def _fastest(self, placement: Placement, table: _Table, roomy: List[_Load], backlog: int) -> Optional[str]:
        key = placement.duration_key
        expected = self._pool.expected_duration
        floor = self._pool.durations_floor(key)
        now = self._clock()
        best: Optional[_Load] = None
        best_key: Any = None
        for load in roomy:  # the servers with room; plain arithmetic, no Candidate objects
            seconds = expected(load.name, key)
            if seconds is None:
                floor = None  # an unmeasured server: its estimate depends on every other server
                break  # (and whether it has room for fastest: strategies.prefetch_unmeasured)
            mc = max(1, load.max_concurrent)
            finish = finish_estimate(load.ahead, load.max_concurrent, seconds, self._running_s(load.name, now))
            rank = (finish, load.ahead / mc, load.name)  # (estimate, load, name), as strategies.choose ranks
            if best_key is None or rank < best_key:
                best, best_key = load, rank
        if floor is not None and best is not None:
            if table.count == 1:
                return best.name
            finish_here = best_key[0]
            other_slots = table.slots - best.max_concurrent
            # The others clear work at most at other_slots / floor jobs per second (no estimate is
            # below the floor), so they need at least this long for the backlog and their own queues,
            # less at most one job per other server already done by its running job; if even that
            # is later than `best` would finish, strategies.choose sends it to `best`.
            if other_slots > 0:
                least_work = backlog + table.ahead - best.ahead - (table.count - 1)
                least_clear = least_work * max(floor, 1e-6) / other_slots
                if least_clear >= finish_here * (1 + 1e-9) + 1e-12:
                    return best.name
            if self._none_faster(table, key, finish_here, now):
                return best.name
        return self._exact_fastest(table, key, backlog, now)

    def _exact_fastest(self, table: _Table, key: str, backlog: int, now: float) -> Optional[str]:
        """strategies._fastest over every online fit server, in plain arithmetic: the same
        expressions in the same order (the pool's), so the same floats and the same answer."""
        loads = [load for load in self._loads.values() if load.online and load.name in table.fit]
        times = self._pool.expected_durations([load.name for load in loads], key)
        known = [t for t in times if t is not None]
        optimistic = min(known) if known else 0.0
        rows = []  # (load, per-job seconds, finish estimate, seconds its running job has run)
        for load, seconds in zip(loads, times):
            per_job = seconds if seconds is not None else optimistic
            running_s = self._running_s(load.name, now)
            rows.append((load, seconds, finish_estimate(load.ahead, load.max_concurrent, per_job, running_s),
                         running_s))
        best = None
        best_rank: Any = None
        for load, seconds, finish, _ in rows:
            if load.name in self._roomy and not prefetch_unmeasured(seconds, load.counted_ours, load.max_concurrent):
                rank = (finish, seconds is not None, load.ahead / max(1, load.max_concurrent), load.name)
                if best_rank is None or rank < best_rank:
                    best, best_rank = load, rank
        if best is None:
            return None
        finish_here = best_rank[0]
        others = [row for row in rows if row[0] is not best]
        if not others or not any(finish < finish_here for _, _, finish, _ in others):
            return best.name
        rate = sum(load.max_concurrent / max(seconds if seconds is not None else optimistic, 1e-6)
                   for load, seconds, _, _ in others)
        clear_time = (backlog + sum(load.ahead - done_share(load.ahead, load.max_concurrent,
                                                            seconds if seconds is not None else optimistic, running_s)
                                    for load, seconds, _, running_s in others)) / rate
        return best.name if finish_here <= clear_time else None

    def _none_faster(self, table: _Table, key: str, finish_here: float, now: float) -> bool:
        """True if no full server would finish a job sooner than `finish_here` (then strategies.choose
        sends it to the best server with room; none of those is faster, it is their minimum).
        O(full servers): cheap exactly when the backlog bound is not (the farm has room to spare)."""
        expected = self._pool.expected_duration
        for name in self._full:
            if name not in table.fit:
                continue
            load = self._loads[name]
            seconds = expected(name, key)
            if seconds is None or finish_estimate(load.ahead, load.max_concurrent, seconds,
                                                  self._running_s(name, now)) < finish_here:
                return False  # faster, or unmeasured (its estimate depends on every server): ask in full
        return True
