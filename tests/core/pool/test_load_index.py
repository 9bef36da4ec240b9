"""LoadIndex: the dispatcher's incremental chooser gives ServerPool.choose's answers without reading every server."""

from __future__ import annotations

import random
from typing import Any, Dict, List, Optional, Set

import pytest
from pool_answers import Item, Queue, Stats

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.errors import NoCapableServer, ServerUnavailable
from nuke_comfyui.core.pool import Placement, ServerPool
from nuke_comfyui.core.pool.load_index import HELD_LOAD, LoadIndex
from nuke_comfyui.core.pool.strategies import STRATEGIES


class _Client:
    """Answers the pool's probes: a queue holding `others` prompts of other artists, or an error."""

    def __init__(self, server: ServerConfig) -> None:
        self.server = server
        self.others = 0
        self.down = False
        self.classes: Dict[str, Any] = {"KSampler": {}, "SaveImage": {}}

    def queue(self) -> Queue:
        if self.down:
            raise ServerUnavailable("connection refused", self.server.name)
        return Queue(pending=[Item(f"theirs-{i}") for i in range(self.others)])

    def system_stats(self) -> Stats:
        if self.down:
            raise ServerUnavailable("connection refused", self.server.name)
        return Stats(devices=[])

    def object_info(self) -> Dict[str, Any]:
        return self.classes

    def close(self) -> None:
        pass


def _pool(configs: List[ServerConfig], strategy: str = "fastest") -> tuple:
    clients: Dict[str, _Client] = {}

    def factory(server: ServerConfig) -> _Client:
        clients[server.name] = _Client(server)
        return clients[server.name]

    pool = ServerPool(ClusterConfig(servers=configs, strategy=strategy, poll_interval=0.05), client_factory=factory)
    pool.refresh()
    return pool, clients


def _answer(choose: Any, *args: Any) -> Any:
    try:
        return choose(*args)
    except NoCapableServer as exc:
        return ("no capable server", str(exc))


def test_index_answers_like_the_pool_through_a_random_walk() -> None:
    """Every strategy, placement and backlog, after every kind of change (running jobs' head starts
    included), for 400 steps."""
    rng = random.Random(14)
    now = 1000.0
    configs = [ServerConfig(name=f"s{i}", port=8100 + i, max_concurrent=1 + i % 3, priority=i % 2,
                            job_types=["upscale"] if i in (2, 5) else []) for i in range(7)]
    pool, clients = _pool(configs)
    index = LoadIndex(pool, clock=lambda: now)
    ours: Dict[str, int] = {}
    held: Set[str] = set()
    since: Dict[str, float] = {}  # server -> when our oldest job there started running
    placements = [Placement(strategy=s, duration_key="k", job_type=jt, exclude=ex, min_vram=None)
                  for s in STRATEGIES for jt, ex in ((None, frozenset()), ("upscale", frozenset()),
                                                    (None, frozenset({"s0", "s3"})))]
    placements.append(Placement(duration_key="k", job_type="comp", exclude={"s0", "s1", "s3", "s4", "s6"}))
    compared = 0
    for _step in range(400):
        op = rng.randrange(8)
        name = f"s{rng.randrange(7)}"
        if op == 0:
            ours[name] = max(0, ours.get(name, 0) + rng.choice((-1, 1, 1)))
        elif op == 1:
            clients[name].others = rng.randrange(3)
            pool.refresh()
        elif op == 2:
            pool.record_duration(name, rng.choice(("k", "other")), rng.uniform(0.5, 8.0))
        elif op == 3:
            held ^= {name}
        elif op == 4:
            clients[name].down = rng.random() < 0.3
            pool.refresh()
        elif op == 5:
            pool.set_enabled(name, rng.random() < 0.8)
            pool.refresh()
        elif op == 6:
            if name in since and rng.random() < 0.3:
                del since[name]
            else:
                since[name] = now - rng.choice((0.0, rng.uniform(0.0, 9.0)))
            now += rng.uniform(0.0, 0.5)
        else:
            clients[name].classes = {"SaveImage": {}} if rng.random() < 0.2 else {"KSampler": {}, "SaveImage": {}}
            pool.report_failure(name, "dropped")  # it comes back (reloading its node list) on the next probe
            pool.refresh()
        index.refresh()
        for server, count in ours.items():
            index.set_ours(server, count)
        index.set_held(held)
        for server in {f"s{i}" for i in range(7)}:
            index.set_running_since(server, since.get(server))
        in_flight = {**ours, **{server: HELD_LOAD for server in held}}
        running_s = {server: max(0.0, now - started) for server, started in since.items()}
        for placement in placements:
            for backlog in (1, 2, 3, 5, 8, 13, 10_000):
                expected = _answer(pool.choose, placement, in_flight, backlog, running_s)
                assert _answer(index.choose, placement, backlog) == expected, (placement, backlog)
                compared += 1
    assert compared == 400 * len(placements) * 7


def test_fastest_with_a_long_backlog_reads_only_the_servers_with_room() -> None:
    configs = [ServerConfig(name=f"s{i:02d}", port=8200 + i) for i in range(40)]
    pool, _ = _pool(configs)
    for i, config in enumerate(configs):
        pool.record_duration(config.name, "k", 1.0 + i / 10)
    index = LoadIndex(pool)
    index.refresh()
    for config in configs[1:]:
        index.set_ours(config.name, 2)  # full: one running + one prefetched
    read: List[str] = []
    real = pool.expected_duration

    def counting(name: str, key: str) -> Optional[float]:
        read.append(name)
        return real(name, key)

    pool.expected_duration = counting  # type: ignore[method-assign]
    placement = Placement(duration_key="k", strategy="fastest")
    assert index.choose(placement, backlog=10_000) == "s00"
    assert read == ["s00"]  # the other 39 servers were not read
    assert pool.choose(placement, {c.name: 2 for c in configs[1:]}, backlog=10_000) == "s00"
    read.clear()
    index.set_ours("s00", 2)
    assert index.choose(placement, backlog=10_000) is None and read == []


def test_fastest_holds_back_the_last_job_from_a_slow_server_like_the_pool() -> None:
    """The tail of a group: the backlog bound cannot decide, so every server is read, as the pool does."""
    configs = [ServerConfig(name="fast", port=8301), ServerConfig(name="slow", port=8302)]
    pool, _ = _pool(configs)
    pool.record_duration("fast", "k", 1.0)
    pool.record_duration("slow", "k", 10.0)
    index = LoadIndex(pool)
    index.refresh()
    index.set_ours("fast", 2)
    placement = Placement(duration_key="k", strategy="fastest")
    assert pool.choose(placement, {"fast": 2}, backlog=1) is None
    assert index.choose(placement, backlog=1) is None
    assert index.choose(placement, backlog=100) == pool.choose(placement, {"fast": 2}, backlog=100) == "slow"
    # `fast` (2 ahead, 1 s each) clears backlog + 2 jobs in backlog + 2 s; `slow` needs 10 s for one:
    # it gets the job from a backlog of 8 on, not before.
    for backlog, answer in ((7, None), (8, "slow")):
        assert pool.choose(placement, {"fast": 2}, backlog=backlog) == answer
        assert index.choose(placement, backlog=backlog) == answer


def test_no_capable_server_is_raised_with_the_pools_reasons() -> None:
    configs = [ServerConfig(name="a", port=8401, job_types=["upscale"]), ServerConfig(name="b", port=8402)]
    pool, clients = _pool(configs)
    clients["b"].classes = {"SaveImage": {}}
    clients["b"].down = True
    pool.refresh()
    clients["b"].down = False
    pool.refresh()  # back, with its new node list
    index = LoadIndex(pool)
    index.refresh()
    placement = Placement(class_types={"KSampler"}, job_type="comp", strategy="least-loaded")
    with pytest.raises(NoCapableServer) as from_pool:
        pool.choose(placement, {})
    with pytest.raises(NoCapableServer) as from_index:
        index.choose(placement)
    assert str(from_index.value) == str(from_pool.value)
    assert "a takes only job types upscale" in str(from_index.value) and "b lacks KSampler" in str(from_index.value)


def test_fastest_prefetches_nothing_to_an_unmeasured_server_like_the_pool() -> None:
    """strategies.fastest_room: a server never measured takes at most max_concurrent of ours; the
    index's exact path must say the same (the random walk rarely meets an unmeasured server with
    one of ours already there)."""
    configs = [ServerConfig(name="new", port=8501), ServerConfig(name="known", port=8502),
               ServerConfig(name="wide", port=8503, max_concurrent=2)]
    pool, _ = _pool(configs)
    pool.record_duration("known", "k", 5.0)
    index = LoadIndex(pool)
    index.refresh()
    placement = Placement(duration_key="k", strategy="fastest")
    in_flight = {"new": 1, "known": 1, "wide": 2}
    for server, count in in_flight.items():
        index.set_ours(server, count)
    for backlog in (1, 3, 100):
        expected = pool.choose(placement, in_flight, backlog=backlog)
        assert index.choose(placement, backlog=backlog) == expected
        assert expected in (None, "known")  # never a second job on `new`, never a third on `wide`
    assert pool.choose(placement, in_flight, backlog=100) == "known"
    index.set_ours("new", 0)
    assert index.choose(placement, backlog=100) == pool.choose(placement, {**in_flight, "new": 0}, backlog=100) == "new"


def test_the_backlog_bound_counts_the_head_start_of_the_other_servers_running_jobs() -> None:
    """The O(1) proof that fastest would not hold back must allow for work already done: `idle` would
    finish the job in 2.9 s; `busy` holds 2 (1 s each) but has run its first for 0.99 s, so it clears
    them and this one in 2.01 s: hold the job back, as the pool does. (Counting `busy`'s queue as
    whole jobs, 3 s, would "prove" that `idle` should take it.)"""
    configs = [ServerConfig(name="idle", port=8601), ServerConfig(name="busy", port=8602)]
    pool, _ = _pool(configs)
    pool.record_duration("idle", "k", 2.9)
    pool.record_duration("busy", "k", 1.0)
    now = 50.0
    index = LoadIndex(pool, clock=lambda: now)
    index.refresh()
    index.set_ours("busy", 2)
    index.set_running_since("busy", now - 0.99)
    placement = Placement(duration_key="k", strategy="fastest")
    assert pool.choose(placement, {"busy": 2}, backlog=1, running_s={"busy": 0.99}) is None
    assert index.choose(placement, backlog=1) is None
    index.set_running_since("busy", None)  # its job not started: 3 s there, so `idle` takes it
    assert pool.choose(placement, {"busy": 2}, backlog=1) == index.choose(placement, backlog=1) == "idle"
