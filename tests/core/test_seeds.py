"""Seed strategies: documented formulas, deterministic, in range, distinct, random ones far apart."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.seeds import MAX_SEED, MAX_VARIATIONS, SEED_STRATEGIES, SeedError, seed_for, seeds

PHI = (1 + 5**0.5) / 2
BASES = [0, 1, 42, 2**32, MAX_SEED - 5, MAX_SEED]


def test_strategy_names() -> None:
    assert SEED_STRATEGIES == ("random", "sequential", "fibonacci", "golden")


@pytest.mark.parametrize("strategy", SEED_STRATEGIES)
@pytest.mark.parametrize("base", [0, MAX_SEED])
def test_ten_thousand_seeds_are_distinct_and_in_range(strategy: str, base: int) -> None:
    values = seeds(strategy, base, 10_000)
    assert len(set(values)) == 10_000
    assert all(0 <= v <= MAX_SEED for v in values)


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(SEED_STRATEGIES), st.integers(0, MAX_SEED))
def test_distinct_and_in_range_for_any_base(strategy: str, base: int) -> None:
    values = seeds(strategy, base, 3000)
    assert len(set(values)) == len(values)
    assert all(0 <= v <= MAX_SEED for v in values)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, MAX_SEED))
def test_random_seeds_are_at_least_a_million_apart(base: int) -> None:
    ordered = sorted(seeds("random", base, 10_000))
    assert min(b - a for a, b in zip(ordered, ordered[1:])) >= 1_000_000


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(SEED_STRATEGIES), st.integers(0, MAX_SEED), st.integers(0, MAX_VARIATIONS - 1))
def test_deterministic_from_base_and_index(strategy: str, base: int, index: int) -> None:
    assert seed_for(strategy, base, index) == seed_for(strategy, base, index)
    assert 0 <= seed_for(strategy, base, index) <= MAX_SEED


def test_random_is_pinned_across_versions() -> None:
    """A change here would silently change every resumed render's images."""
    assert seeds("random", 0, 3) == [9217232288376631369, 9012563156444815905, 8807894436569969828]
    assert seeds("random", 1234, 2) == [8748573052980041486, 4868067681548837561]
    assert seed_for("random", 1234, 0) != seed_for("random", 1235, 0)


@pytest.mark.parametrize("base", BASES)
def test_index_zero_is_the_base_seed(base: int) -> None:
    for strategy in ("sequential", "fibonacci", "golden"):
        assert seed_for(strategy, base, 0) == base


def test_formulas() -> None:
    modulus = 2**63
    assert seeds("sequential", 10, 4) == [10, 11, 12, 13]
    assert seed_for("sequential", MAX_SEED, 1) == 0  # wraps inside the range
    assert seeds("fibonacci", 100, 8) == [100, 101, 102, 104, 107, 112, 120, 133]
    golden = seed_for("golden", 0, 1)
    assert golden % 2 == 1 and abs(golden - round(modulus / PHI)) <= 1
    assert seed_for("golden", 7, 3) == (7 + 3 * golden) % modulus


def test_fibonacci_beyond_the_range_continues_distinct() -> None:
    values = seeds("fibonacci", MAX_SEED, 200)
    assert len(set(values)) == 200
    assert values[91] - values[90] == 1  # sequential after the last Fibonacci offset that fits


@pytest.mark.parametrize(("args", "message"), [
    (("lucky", 0, 0), "unknown seed strategy 'lucky'; use one of random, sequential"),
    (("random", -1, 0), "base seed -1 must be between 0 and"),
    (("random", MAX_SEED + 1, 0), "must be between 0 and"),
    (("golden", 0, -1), "variation index -1"),
    (("golden", 0, MAX_VARIATIONS), "variation index"),
])
def test_errors(args: tuple, message: str) -> None:
    with pytest.raises(SeedError, match=message) as caught:
        seed_for(*args)
    assert isinstance(caught.value, NukeComfyError) and isinstance(caught.value, ValueError)
