"""`GET /system_stats` read into a typed `SystemStats`, or the reason it cannot be.

A pure function so the client stays one HTTP call per method: the version (what decides the
protocol the pool speaks to this server) and the devices (VRAM, CPU-only) come from here, and an
answer of the wrong shape is a reason in words, which the client turns into a ProtocolError
naming the server.
"""

from __future__ import annotations

from typing import Any

from nuke_comfyui.core.comfy.calls import is_number
from nuke_comfyui.core.comfy.types import Device, SystemStats


class BadStats(ValueError):
    """The answer is not shaped like ComfyUI's /system_stats; the message says where."""


def read_system_stats(data: Any) -> SystemStats:
    """The typed stats of a decoded /system_stats answer; BadStats when it is not one."""
    system = data.get("system") if isinstance(data, dict) else None
    if not isinstance(system, dict):
        raise BadStats("the answer has no system object")
    raw_devices = data.get("devices", [])
    if not isinstance(raw_devices, list):
        raise BadStats("devices is not a list")
    devices = [_device(raw) for raw in raw_devices]
    version = system.get("comfyui_version")
    os_name = system.get("os")
    return SystemStats(
        comfyui_version=str(version) if version is not None else None,
        os=str(os_name) if os_name is not None else None,
        devices=devices,
        cpu_only=all(d.type == "cpu" for d in devices),
    )


def _device(raw: Any) -> Device:
    if not isinstance(raw, dict):
        raise BadStats("a device is not an object")
    total, free = raw.get("vram_total", 0), raw.get("vram_free", 0)
    if not (is_number(total) and is_number(free)):
        raise BadStats("vram_total/vram_free are not numbers")
    return Device(name=str(raw.get("name", "")), type=str(raw.get("type", "")),
                  vram_total=int(total), vram_free=int(free))
