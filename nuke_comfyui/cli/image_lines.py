"""What each server does with image files, as lines for `inputs` (status has its IMAGES column).

`inputs` already read each server's `/object_info`; one `/system_stats` per server gives its
release, and together they say whether an EXR plate loads there and whether SaveImage can become
a float saver (core/comfy/image_capabilities.py).
"""

from __future__ import annotations

from typing import Any, Dict, List

STATS_WAIT_S = 5.0


def image_lines(config: Any, object_infos: Dict[str, Any]) -> List[str]:
    """'gpu1 (ComfyUI 0.33.0): EXR in, EXR/PNG16 out' for every enabled server that answered."""
    from nuke_comfyui.core.comfy.client import ComfyClient
    from nuke_comfyui.core.comfy.image_capabilities import image_capabilities
    from nuke_comfyui.core.errors import NukeComfyError

    lines = []
    for server in config.servers:
        if not server.enabled or server.name not in object_infos:
            continue
        try:
            with ComfyClient(server, connect_timeout=min(3.0, STATS_WAIT_S), read_timeout=STATS_WAIT_S,
                             retries=0) as client:
                version = client.system_stats().comfyui_version
        except NukeComfyError:
            version = None
        caps = image_capabilities(version, object_infos[server.name])
        where = f"{server.name} (ComfyUI {version})" if version else server.name
        lines.append(f"{where}: {caps.summary()}")
    return lines
