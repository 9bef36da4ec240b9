"""Seeds for variations: a pure function of (strategy, base seed, index) — never of the server.

A retry, a resume or a rerun on any server therefore reproduces the same image. Every result
lies in 0 ... 2**63-1 (M = 2**63) and, for one base seed b (0 included), the seeds of indices
0 ... 2**23-1 are pairwise distinct. Index 0 is b itself for sequential, fibonacci and golden.

- sequential:  s_i = (b + i) mod M.
               Distinct: i -> b + i is injective mod M for i < M.
- golden:      s_i = (b + i * G) mod M, G = round(M / phi) | 1 with phi = (1 + sqrt 5) / 2.
               Distinct: G is odd, hence invertible mod 2**63, so i -> i * G is a bijection mod M;
               consecutive seeds are spread by the golden ratio over the whole range.
- fibonacci:   s_i = (b + F_i) mod M with cumulative Fibonacci offsets F_i = Fib(i + 2) - 1
               (0, 1, 2, 4, 7, 12, 20, ...) for i <= 89, then F_i = F_89 + (i - 89).
               Distinct: F is strictly increasing and F_i < F_89 + 2**23 < M, so no two offsets
               are congruent mod M.
- random:      2**23 lanes of width W = 2**40. lane(i) = ((i + h_shift(b)) * h_key(b)) mod 2**23
               with h_key odd (a bijection of the lane index, keyed by b); offset(i) =
               h(b, i) mod (W - 10**6); s_i = lane(i) * W + offset(i). h is keyed BLAKE2b.
               Distinct and at least 10**6 apart: different indices land in different lanes, and
               two values in different lanes differ by more than W - (W - 10**6) = 10**6.
               The largest value is (2**23 - 1) * W + W - 10**6 - 1 < 2**63.

A render of several variations without a base seed gets one drawn for its group
(`base_seed_for_group`): "twelve more variations" must give twelve new images, not the same
twelve again. It is a function of the group id (a fresh random uuid per render), so every farm
task of one group derives the same seeds, and it is journaled with the group's request and
printed, so `--base-seed` repeats the render exactly.
"""

from __future__ import annotations

import hashlib
from typing import List

from nuke_comfyui.core.errors import NukeComfyError

SEED_STRATEGIES = ("random", "sequential", "fibonacci", "golden")
MODULUS = 2**63
MAX_SEED = MODULUS - 1
_GOLDEN = round(MODULUS / ((1 + 5**0.5) / 2)) | 1
_LANE_BITS = 23
_LANE_WIDTH = 2**40
_MIN_GAP = 1_000_000
_MAX_INDEX = 2**_LANE_BITS  # lanes available: also the most variations one group can ask for
MAX_VARIATIONS = _MAX_INDEX


class SeedError(NukeComfyError, ValueError):
    """A seed strategy, base seed or variation index outside what the strategies define."""


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
    """The seed of variation `index` (0-based) under `strategy`, by the formulas in the module docstring."""
    if strategy not in SEED_STRATEGIES:
        raise SeedError(f"unknown seed strategy {strategy!r}; use one of {', '.join(SEED_STRATEGIES)}")
    if not 0 <= base_seed <= MAX_SEED:
        raise SeedError(f"base seed {base_seed} must be between 0 and {MAX_SEED}")
    if not 0 <= index < _MAX_INDEX:
        raise SeedError(f"variation index {index} must be between 0 and {_MAX_INDEX - 1}")
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


#: drawn base seeds stay below this: short enough to read aloud, and they fit the Comfy node's
#: `base seed` knob (a Nuke Int_Knob holds 32-bit signed integers), so a render can be repeated there
DRAWN_SEED_LIMIT = 2**31


def base_seed_for_group(group_id: str) -> int:
    """The base seed drawn for a group rendered without one: fresh per group (its id is a random
    uuid), the same for every process that renders that group (farm tasks), in 0 ... 2**31-1."""
    digest = hashlib.blake2b(group_id.encode("utf-8"), digest_size=8, key=b"base-seed").digest()
    return int.from_bytes(digest, "big") % DRAWN_SEED_LIMIT


def seeds(strategy: str, base_seed: int, count: int) -> List[int]:
    """The first `count` seeds of a strategy: one per variation, pairwise distinct."""
    return [seed_for(strategy, base_seed, index) for index in range(count)]
