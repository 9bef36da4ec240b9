"""What a fake ComfyUI client hands the pool's probes: queue items, a queue, devices and stats.

Shared by the pool's unit tests and the LoadIndex tests, which each script their own client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List


@dataclass
class Item:
    prompt_id: str


@dataclass
class Queue:
    running: List[Item] = field(default_factory=list)
    pending: List[Item] = field(default_factory=list)


@dataclass
class Device:
    vram_total: int
    vram_free: int


@dataclass
class Stats:
    comfyui_version: str = "0.8.0"
    devices: List[Device] = field(default_factory=lambda: [Device(8 * 2**30, 6 * 2**30)])
    cpu_only: bool = False
