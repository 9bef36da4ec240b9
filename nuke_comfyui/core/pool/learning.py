"""What the pool learns of a server once it answers: its node classes and its protocol features.

Both are read when a server is first seen and again whenever it comes back (nodes may have been
installed, the release changed), outside the pool's lock because each is an HTTP call; only the
results are stored under it. Split from pool.py, whose probe loop calls these two.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, ContextManager, FrozenSet, Optional

from nuke_comfyui.core.comfy import capabilities as caps_of
from nuke_comfyui.core.errors import ComfyError
from nuke_comfyui.core.pool.connection import status_with
from nuke_comfyui.core.pool.facts import FactsFeed, ServerRecord
from nuke_comfyui.core.pool.status import ServerStatus

log = logging.getLogger(__name__)

#: the pool's lock (an RLock): what the results are stored under
Lock = ContextManager[Any]


def load_object_info(server: ServerRecord, lock: Lock, feed: FactsFeed) -> None:
    """Cache the server's node classes (refreshed whenever it comes back: nodes may be installed)."""
    try:
        info = server.client.object_info()
        classes: Optional[FrozenSet[str]] = frozenset(info) if isinstance(info, dict) else None
    except ComfyError as exc:
        log.warning("%s: could not read /object_info (%s); sending it jobs without a capability check",
                    server.config.name, exc)
        classes = None
    with lock:
        server.classes = classes
        server.object_info = info if classes is not None else None
        server.capability_checked = True
        feed.touch(server)


def learn_capabilities(server: ServerRecord, status: ServerStatus, came_back: bool, lock: Lock,
                       feed: FactsFeed) -> ServerStatus:
    """Learn the protocol features when the version changes or the server comes back (outside the
    lock: it may probe); a server older than the minimum becomes an `error` with the refusal."""
    if status.state.usable:
        with lock:
            stale = came_back or not server.caps_probed or server.caps.version != status.comfyui_version
        if stale:
            learned = caps_of.learn(server.config.name, status.comfyui_version, server.client)
            with lock:
                if server.caps_probed and server.caps.version == learned.version:
                    learned = replace(learned, client_prompt_id=server.caps.client_prompt_id)
                server.caps, server.caps_probed = learned, True
                server.client.capabilities = learned
                feed.touch(server)
    with lock:
        return status_with(status, server.caps if server.caps_probed else None)
