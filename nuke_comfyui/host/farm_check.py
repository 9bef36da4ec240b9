"""Render on a node whose farm does not answer fails in seconds, on the node and in a message box.

Why: the command line has said for a while, within seconds, when none of the configured servers
answers (core/pool/reachability.py), while Render on a node submitted anyway and the artist
watched "running: 0/12 done" for the scheduler's whole minute of patience before a long reason
per frame. The same core check runs here, before any input frame is written: it costs nothing
once the servers have been probed (every render after the session's first), and at most the
probe's bound (8 s: a connect that times out, or a server that accepts and never answers) on the
session's first render; the bound counts from the session's start, so a farm silent for that long
is said at once however often Render is pressed. The message names Nuke's own panels instead of
the command line's `status`.
"""

from __future__ import annotations

from typing import Any, List, Optional

import nuke

from nuke_comfyui.core.pool.reachability import FarmUnreachable, check_reachable
from nuke_comfyui.host import knobs

#: where an artist sees every server and fixes the list, in Nuke
LOOK_IN_NUKE = "ComfyUI > Server Status shows every server; ComfyUI > Settings edits the list"
NOTHING_CONFIGURED = ("no servers are configured, so the default one (127.0.0.1:8188) was tried: list yours in "
                      "ComfyUI > Settings, the settings file or NUKE_COMFYUI_SERVERS (docs/CONFIG.md)")


def check_farm_answers(node: nuke.Node, session: Any, servers: Optional[List[str]] = None,
                       what: str = "rendered") -> None:
    """Raise FarmUnreachable (said on the node's status first: `not <what>: no server answers`) when
    none of the servers this node may use answers (`servers`, else its 'only servers' knob, else
    every enabled one); return at once when one does. Main thread: bounded by the first probes' wait."""
    loaded = getattr(session, "loaded", None)
    hint = NOTHING_CONFIGURED if getattr(loaded, "nothing_configured", False) else ""
    try:
        check_reachable(session.farm.pool, servers or knobs.server_subset(node), hint=hint, look=LOOK_IN_NUKE,
                        started=getattr(session, "started", None))
    except FarmUnreachable as exc:
        knobs.show_status(node, f"not {what}: no server answers\n{exc}")
        raise
