"""Seeds for variations: a pure function of (strategy, base seed, index) — never of the server.

All results lie in 0 ... 2**63-1 (M = 2**63) and are distinct for indices 0 ... 2**20-1 whatever
the base seed (0 included), so a retry on any server reproduces the same image.

- sequential:  s_i = (b + i) mod M
- golden:      s_i = (b + i * G) mod M, G = round(M / phi) | 1 (odd), phi = golden ratio.
               G is odd, so i -> i*G is a bijection mod 2**63: distinct for every i < M.
- fibonacci:   s_i = (b + F_i * K) mod M with F_i the cumulative Fibonacci offsets
               0, 1, 2, 4, 7, 12, ... (F_i = Fib(i+2) - 1, strictly increasing) and K = 1
               while F_i < M; distinctness holds for i < 90 (F_90 < 2**63); beyond that indices
               continue sequentially after the last Fibonacci offset.
- random:      lane(i) = mix(b, i) picks a distinct lane among 2**23 lanes of width 2**40 (an
               odd-multiplier bijection on the lane index keyed by b), offset(i) = hash(b, i) mod
               (2**40 - 10**6); s_i = lane(i) * 2**40 + offset(i). Different indices land in different
               lanes, so any two seeds are at least 2**40 - (2**40 - 10**6) = 10**6 apart.
"""

from __future__ import annotations

import hashlib
from typing import List

SEED_STRATEGIES = ("random", "sequential", "fibonacci", "golden")
MODULUS = 2**63
MAX_SEED = MODULUS - 1
_GOLDEN = round(MODULUS / ((1 + 5**0.5) / 2)) | 1
_LANE_BITS = 23
_LANE_WIDTH = 2**40
_MIN_GAP = 1_000_000
_MAX_INDEX = 2**_LANE_BITS  # lanes available: also the most variations one group can ask for


def _fibonacci_offset(index: int) -> int:
    a, b, total = 1, 1, 0
    for _ in range(index):
        total += a
        a, b = b, a + b
    return total


_FIB_LIMIT = 89  # _fibonacci_offset(89) < 2**63 <= _fibonacci_offset(91)


def _hash(base: int, index: int, salt: bytes) -> int:
    digest = hashlib.blake2b(f"{base}:{index}".encode(), digest_size=8, key=salt).digest()
    return int.from_bytes(digest, "big")


def seed_for(strategy: str, base_seed: int, index: int) -> int:
    """The seed of variation `index` (0-based)."""
    if strategy not in SEED_STRATEGIES:
        raise ValueError(f"unknown seed strategy {strategy!r}; use one of {', '.join(SEED_STRATEGIES)}")
    if not 0 <= base_seed <= MAX_SEED:
        raise ValueError(f"base seed {base_seed} must be between 0 and {MAX_SEED}")
    if not 0 <= index < _MAX_INDEX:
        raise ValueError(f"variation index {index} must be between 0 and {_MAX_INDEX - 1}")
    if strategy == "sequential":
        return (base_seed + index) % MODULUS
    if strategy == "golden":
        return (base_seed + index * _GOLDEN) % MODULUS
    if strategy == "fibonacci":
        if index <= _FIB_LIMIT:
            return (base_seed + _fibonacci_offset(index)) % MODULUS
        return (base_seed + _fibonacci_offset(_FIB_LIMIT) + (index - _FIB_LIMIT)) % MODULUS
    lane_count = 2**_LANE_BITS
    key = _hash(base_seed, -1, b"lane") | 1  # odd: multiplication is a bijection mod 2**23
    lane = ((index + _hash(base_seed, -2, b"shift")) * key) % lane_count
    offset = _hash(base_seed, index, b"offset") % (_LANE_WIDTH - _MIN_GAP)
    return lane * _LANE_WIDTH + offset


def seeds(strategy: str, base_seed: int, count: int) -> List[int]:
    return [seed_for(strategy, base_seed, index) for index in range(count)]
