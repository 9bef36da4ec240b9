"""Image capabilities of a pool's servers, read from what the pool already caches.

The pool keeps each server's `/system_stats` version (in its status) and `/object_info`; the image
paths (core/comfy/image_capabilities.py) follow from those two, so nothing is asked of a server
here. Only servers that answer count (usable, or their `/object_info` just read): an offline
server takes no job, so it must not force a render down to 8 bits. `wait_for_first_answers`
gives the farm a bounded moment to answer after start, so a render is not planned on nothing.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Sequence

from nuke_comfyui.core.comfy.image_capabilities import ImageCapabilities, image_capabilities


def usable_image_capabilities(pool: Any, subset: Optional[Sequence[str]] = None) -> Dict[str, ImageCapabilities]:
    """{server: capabilities} of the enabled, answering servers (of `subset` when given)."""
    infos = pool.object_infos()
    found: Dict[str, ImageCapabilities] = {}
    for status in pool.statuses():
        answering = status.state.usable or status.name in infos
        if not status.enabled or not answering or (subset and status.name not in subset):
            continue
        found[status.name] = image_capabilities(status.comfyui_version, infos.get(status.name))
    return found


def server_image_capabilities(pool: Any, name: str) -> Optional[ImageCapabilities]:
    """One server's capabilities now (None when the pool has no such server)."""
    try:
        status = pool.status(name)
    except KeyError:
        return None
    return image_capabilities(status.comfyui_version, pool.object_infos().get(name))


def wait_for_first_answers(pool: Any, seconds: float) -> None:
    """Wait (at most `seconds`) until every enabled server's first probe is published (its status
    has a probe time, so its release is known along with its `/object_info`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(s.checked_at is not None for s in pool.statuses() if s.enabled):
            return
        time.sleep(0.05)
