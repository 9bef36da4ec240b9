"""Image capabilities of a pool's servers, read from what the pool already caches.

The pool keeps each server's `/system_stats` version (in its status) and `/object_info`; the image
paths (core/comfy/image_capabilities.py) follow from those two, so nothing is asked of a server
here. Only servers that answer now count: an offline server takes no job, so it must not force a
render down to 8 bits.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from nuke_comfyui.core.comfy.image_capabilities import ImageCapabilities, image_capabilities


def usable_image_capabilities(pool: Any, subset: Optional[Sequence[str]] = None) -> Dict[str, ImageCapabilities]:
    """{server: capabilities} of the enabled, answering servers (of `subset` when given)."""
    infos = pool.object_infos()
    found: Dict[str, ImageCapabilities] = {}
    for status in pool.statuses():
        if not status.enabled or not status.state.usable or (subset and status.name not in subset):
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
