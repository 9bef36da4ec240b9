"""Selection strategies over hand-made candidates: each picks as documented, and waits when it should."""

from __future__ import annotations

from typing import Optional

import pytest

from nuke_comfyui.core.pool.strategies import Candidate, choose


def c(name: str, ours: int = 0, others: int = 0, mc: int = 1, prio: int = 0, exp: Optional[float] = None
      ) -> Candidate:
    return Candidate(name=name, ours=ours, others=others, max_concurrent=mc, priority=prio, expected_s=exp)


def test_room_is_max_concurrent_plus_one_prefetched_counting_other_users() -> None:
    assert c("a", ours=1).has_room
    assert not c("a", ours=2).has_room
    assert not c("a", ours=1, others=1).has_room
    assert c("a", ours=2, mc=2).has_room


def test_round_robin_turns_through_servers_with_room() -> None:
    servers = [c("a"), c("b"), c("full", ours=2), c("c")]
    assert [choose("round-robin", servers, turn) for turn in range(4)] == ["a", "b", "c", "a"]


def test_least_loaded_counts_other_users_jobs_per_slot() -> None:
    servers = [c("a", ours=1), c("b", others=1), c("c", ours=1, mc=4)]
    assert choose("least-loaded", servers) == "c"
    assert choose("least-loaded", [c("a", ours=1), c("b")]) == "b"


def test_priority_prefers_higher_priority_then_least_loaded() -> None:
    servers = [c("low", prio=0), c("high-busy", prio=5, ours=1), c("high-idle", prio=5)]
    assert choose("priority", servers) == "high-idle"
    assert choose("priority", [c("low"), c("high-full", prio=9, ours=2)]) == "low"


def test_fastest_picks_earliest_finish_not_shortest_queue() -> None:
    slow_idle = c("slow", exp=4.0)
    fast_one_ahead = c("fast", ours=1, exp=1.0)
    assert choose("fastest", [slow_idle, fast_one_ahead]) == "fast"


def test_fastest_holds_the_last_jobs_for_a_full_server_that_finishes_sooner() -> None:
    slow_idle = c("slow", exp=4.0)
    fast_full = c("fast", ours=2, exp=1.0)  # clears its 2 + this 1 in 3 s; the slow one needs 4 s
    assert choose("fastest", [slow_idle, fast_full], backlog=1) is None
    assert choose("fastest", [c("slow", exp=2.0), fast_full], backlog=1) == "slow"


def test_fastest_feeds_slow_servers_while_the_backlog_is_long() -> None:
    slow_idle = c("slow", exp=4.0)
    fast_full = c("fast", ours=2, exp=1.0)
    assert choose("fastest", [slow_idle, fast_full], backlog=50) == "slow"


def test_fastest_explores_unmeasured_servers() -> None:
    assert choose("fastest", [c("known", exp=1.0), c("new")]) == "new"


def test_no_candidates_means_wait_and_unknown_strategy_is_an_error() -> None:
    assert choose("least-loaded", []) is None
    assert choose("fastest", []) is None
    with pytest.raises(ValueError, match="unknown strategy 'quickest'"):
        choose("quickest", [c("a")])


def test_fastest_prefetches_nothing_to_a_server_it_never_measured() -> None:
    """A job queued behind a never-measured server's first job may be the group's last to end: on
    the 1,1,2,4 farm the best 12-job schedule gives each speed-1 server one job (bench/bounds.py)."""
    assert choose("fastest", [c("new", ours=1)]) is None  # one running there; no second yet
    assert choose("fastest", [c("new", ours=1, mc=2)]) == "new"  # a free slot is still used
    assert choose("fastest", [c("known", ours=1, exp=1.0)]) == "known"  # measured: prefetched
    assert choose("fastest", [c("new", ours=1), c("known", ours=1, exp=9.0)]) == "known"
    assert choose("least-loaded", [c("new", ours=1)]) == "new"  # the other strategies prefetch as before


def test_fastest_holds_a_long_job_for_servers_about_to_free_rather_than_queue_it_behind_one_just_begun() -> None:
    """`bench --temporal` before the fix: 8 chunks of 16 frames on 4 equal servers. s3 ended its first
    chunk first (0.8 s) and took the fifth; the sixth was then queued behind the fifth (which had not
    even started) although s0-s2 had run theirs for 0.79 s and were about to free. s3 ran 3 chunks
    while another server sat idle. Counting what the running chunks have done, it waits for them."""
    just_measured = c("s3", ours=1, exp=0.8)  # its fifth chunk sent, not started: running_s 0
    about_to_free = [Candidate(name=f"s{i}", ours=1, others=0, running_s=0.79) for i in range(3)]
    assert choose("fastest", [*about_to_free, just_measured], backlog=3) is None
    # without the head start they looked a whole chunk away, and s3 got the chunk (as before the fix)
    unaware = [Candidate(name=f"s{i}", ours=1, others=0) for i in range(3)]
    assert choose("fastest", [*unaware, just_measured], backlog=3) == "s3"
    # s0 frees and is measured: it takes the chunk at once
    freed = c("s0", exp=0.81)
    assert choose("fastest", [freed, *about_to_free[1:], just_measured], backlog=3) == "s0"


def test_a_prefetch_behind_a_job_nearly_done_beats_an_idle_slower_server() -> None:
    nearly_done = Candidate(name="fast", ours=1, others=0, expected_s=1.0, running_s=0.9)
    assert nearly_done.finish_estimate(1.0) == pytest.approx(1.1)
    assert choose("fastest", [c("slow", exp=1.5), nearly_done]) == "fast"
    just_begun = Candidate(name="fast", ours=1, others=0, expected_s=1.0, running_s=0.0)
    assert choose("fastest", [c("slow", exp=1.5), just_begun]) == "slow"


def test_the_head_start_is_at_most_one_job_shrinks_when_late_and_counts_only_when_waiting_for_a_slot() -> None:
    late = Candidate(name="a", ours=1, others=0, expected_s=1.0, running_s=1.25)
    assert late.finish_estimate(1.0) == pytest.approx(1.25)  # 0.25 s late: 0.25 s more expected, then 1 s
    hung = Candidate(name="a", ours=1, others=0, expected_s=1.0, running_s=5.0)
    assert hung.finish_estimate(1.0) == pytest.approx(5.0)  # 4 s late: never "about to free"
    assert choose("fastest", [hung, c("idle", exp=3.0)]) == "idle"
    free_slot = Candidate(name="b", ours=1, others=0, max_concurrent=2, expected_s=1.0, running_s=0.9)
    assert free_slot.finish_estimate(1.0) == pytest.approx(1.0)  # starts at once: nothing to wait for
    two_waves = Candidate(name="c", ours=1, others=1, expected_s=1.0, running_s=0.25)
    assert two_waves.finish_estimate(1.0) == pytest.approx(2.75)  # the rest of ours, another's, then this
