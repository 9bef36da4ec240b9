"""Take our prompts off a server without ever stopping another artist's prompt, on any release.

From ComfyUI 0.3.58 `POST /interrupt {"prompt_id"}` stops only that prompt, so deleting and then
interrupting every id by name is safe. Before 0.3.58 the server ignores the id and stops whatever
runs. There we delete the pending ones (deleting never touches the running prompt), read the
queue, and interrupt only if one of ours is the prompt running at that moment. This check can
race: if our prompt finishes in the few milliseconds between the queue read and the interrupt,
the next prompt (maybe someone else's) is stopped. We accept that window (see ARCHITECTURE.md);
without the check the interrupt would stop another prompt every time. When the queue cannot be
read, nothing is interrupted and the running prompt is left to finish, and the caller tells the
user.

Servers before 0.3.45 made up their own ids; an id of ours that their queue does not show is
looked up by the mark our prompts carry (core/comfy/prompt_marks.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from nuke_comfyui.core.errors import NukeComfyError

log = logging.getLogger(__name__)


@dataclass
class Removal:
    """What removing prompts from one server did."""

    states: Dict[str, str] = field(default_factory=dict)  # our id -> pending | running | gone
    interrupted: List[str] = field(default_factory=list)
    left_running: List[str] = field(default_factory=list)  # messages for the user
    error: Optional[str] = None  # the server could not be told at all


def targeted(client: Any) -> bool:
    """Whether this server's interrupt stops only the prompt it names (unknown servers: no)."""
    caps = getattr(client, "capabilities", None)
    return True if caps is None else bool(caps.targeted_interrupt)


def remove(client: Any, prompt_ids: Sequence[str]) -> Removal:
    """Delete our pending prompts and interrupt our running one, safely for the server's release."""
    ids = [str(pid) for pid in prompt_ids]
    result = Removal()
    if not ids:
        return result
    name = getattr(client, "name", "?")
    try:
        client.delete_pending(ids)
    except NukeComfyError as exc:
        result.error = str(exc)
        log.warning("could not delete pending prompts on %s: %s", name, exc)
        return result
    if targeted(client):
        for pid in ids:
            try:
                client.interrupt(pid)
            except NukeComfyError as exc:
                log.warning("could not interrupt %s on %s: %s", pid, name, exc)
        return result
    try:
        snapshot = client.queue()
        running = {item.prompt_id for item in snapshot.running}
        pending = {item.prompt_id for item in snapshot.pending}
        on_server = {pid: _server_id(client, pid, running | pending) for pid in ids}
        leftovers = [sid for sid in on_server.values() if sid in pending]
        if leftovers:  # found only by their mark: delete them under the server's ids
            client.delete_pending(leftovers)
        ours_running = [pid for pid, sid in on_server.items() if sid in running]
        for pid in ours_running:
            client.interrupt(on_server[pid] or pid)  # the server stops whatever runs: ours, just checked
            result.interrupted.append(pid)
        for pid, sid in on_server.items():
            result.states[pid] = "running" if sid in running else "pending" if sid in pending else "gone"
    except NukeComfyError as exc:
        message = (f"{name}: could not check which prompt runs ({exc}); ComfyUI {_version(client)} "
                   "cannot interrupt one prompt by id, so a running prompt of ours was left to finish")
        log.warning("%s", message)
        result.left_running.append(message)
    return result


def _server_id(client: Any, pid: str, queued: Any) -> Optional[str]:
    if pid in queued:
        return pid
    caps = getattr(client, "capabilities", None)
    find = getattr(client, "find_prompt", None)
    if caps is not None and not caps.client_prompt_id and find is not None:
        found = find(pid)
        return found if isinstance(found, str) else None
    return None


def _version(client: Any) -> str:
    caps = getattr(client, "capabilities", None)
    return str(getattr(caps, "version", None) or "of unknown version")
