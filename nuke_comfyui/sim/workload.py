"""Benchmark workload shapes a simulated server can play: a slowdown, heavy jobs, a lean mode.

The scheduling benchmark needs farms that change under the dispatcher (a server that slows
down halfway through), jobs of unequal cost, and, for the client's throughput ceiling, servers
whose own overhead per job is as small as the protocol allows. All three are deterministic, so
every design under test meets exactly the same farm:

- slow_to S after slow_after_s T: the server runs at speed S once T seconds have passed since
  it started executing its first prompt.
- heavy_every K, heavy_factor F: a sampler whose seed (`seed` or `noise_seed`) is a multiple of
  K costs F times as many steps. With sequential seeds exactly 1/K of the jobs are heavy.
- lean: no `progress` or `progress_state` frames (a real ComfyUI sends them; the throughput
  ceiling measures the client without the simulator's cost of producing them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional


@dataclass(frozen=True)
class Workload:
    slow_to: Optional[float] = None
    slow_after_s: float = 0.0
    heavy_every: int = 0
    heavy_factor: float = 1.0
    lean: bool = False

    def __post_init__(self) -> None:
        if self.slow_to is not None and self.slow_to <= 0:
            raise ValueError(f"slow_to: {self.slow_to} is not a speed; speeds must be > 0")
        if self.slow_after_s < 0:
            raise ValueError(f"slow_after_s: {self.slow_after_s} is negative; give seconds >= 0")
        if self.heavy_every < 0 or self.heavy_factor <= 0:
            raise ValueError("heavy_every must be >= 0 and heavy_factor > 0")

    def speed_at(self, base_speed: float, seconds_since_first_start: Optional[float]) -> float:
        """The speed in force now: `slow_to` once the slowdown time has passed."""
        if self.slow_to is None or seconds_since_first_start is None:
            return base_speed
        return self.slow_to if seconds_since_first_start >= self.slow_after_s else base_speed

    def cost_factor(self, sampler_inputs: Mapping[str, Any]) -> float:
        """How many times its steps a sampler costs: `heavy_factor` for every K-th seed."""
        if self.heavy_every <= 0:
            return 1.0
        seed = sampler_inputs.get("seed", sampler_inputs.get("noise_seed"))
        if isinstance(seed, int) and seed % self.heavy_every == 0:
            return self.heavy_factor
        return 1.0
