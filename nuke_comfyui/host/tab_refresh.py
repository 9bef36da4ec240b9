"""Rebuild a Workflow tab whose knob types were guessed, once the servers' /object_info arrives.

A fresh session starts its farm when the artist first chooses a workflow, and the servers'
first probes answer a moment later; that first tab is typed from the JSON values (a text field
where the servers offer a pull-down of their checkpoints). Rather than leave the artist to find
the Reload button, one waiter thread per node polls the pool's cache (bounded by WAIT_S) and
hands the rebuild to the main thread, where it happens only if the node still has the same
workflow and its tab is still the guessed one (the artist's edits are kept, as on any rebuild).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Set

from nuke_comfyui.host.main_thread import call_on_main

log = logging.getLogger(__name__)

WAIT_S = 30.0
POLL_S = 0.25


class _Waiting:
    """Full names of nodes with a waiter thread (so a node never gets two)."""

    lock = threading.Lock()
    nodes: Set[str] = set()


def rebuild_when_servers_answer(name: str, path: str, pool: Any,
                                rebuild: Callable[[str, str], None]) -> bool:
    """Start a waiter for node `name` (workflow `path`); False when no server could answer or one waits."""
    if not any(getattr(server, "enabled", True) for server in pool.servers()):
        return False
    with _Waiting.lock:
        if name in _Waiting.nodes:
            return False
        _Waiting.nodes.add(name)
    threading.Thread(target=_wait, args=(name, path, pool, rebuild), daemon=True,
                     name=f"nuke-comfyui-object-info-{name}").start()
    return True


def _wait(name: str, path: str, pool: Any, rebuild: Callable[[str, str], None]) -> None:
    try:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if pool.object_infos():
                call_on_main(rebuild, name, path)
                return
            time.sleep(POLL_S)
        log.info("nuke-comfyui %s: no server answered /object_info in %.0f s; the Workflow tab keeps its "
                 "guessed knob types (press Reload once a server is up)", name, WAIT_S)
    except Exception:  # a waiter thread must never die loudly; the tab stays as it is
        log.warning("nuke-comfyui %s: waiting for /object_info failed", name, exc_info=True)
    finally:
        with _Waiting.lock:
            _Waiting.nodes.discard(name)
