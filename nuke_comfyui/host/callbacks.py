"""What the gizmo's buttons and the ComfyUI menu call: thin wrappers that report errors to the artist.

A failure here shows a message (GUI) or a log line (no GUI) and never raises into Nuke, because
an exception from a button press only produces a traceback the artist cannot act on.
"""

from __future__ import annotations

import logging
from typing import Callable, List

import nuke

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.host import render
from nuke_comfyui.host.knobs import NODE_CLASS

log = logging.getLogger(__name__)


def _tell(text: str) -> None:
    log.warning("%s", text)
    if nuke.GUI:
        nuke.message(text)


def _guarded(action: Callable[[str], object], name: str, verb: str) -> bool:
    try:
        action(name)
    except NukeComfyError as exc:
        _tell(f"ComfyUI {verb} {name}: {exc}")
        return False
    except Exception as exc:
        log.exception("ComfyUI %s %s failed", verb, name)
        _tell(f"ComfyUI {verb} {name} failed unexpectedly: {exc} (details in the terminal log)")
        return False
    return True


def render_this_node() -> None:
    _guarded(render.render_node, nuke.thisNode().name(), "render")


def cancel_this_node() -> None:
    _guarded(render.cancel_node, nuke.thisNode().name(), "cancel")


def retry_this_node() -> None:
    _guarded(render.retry_node, nuke.thisNode().name(), "retry")


def _selected() -> List[str]:
    names = [n.name() for n in nuke.selectedNodes() if n.Class() == NODE_CLASS]
    if not names:
        _tell(f"Select one or more {NODE_CLASS} nodes first.")
    return names


def create_comfy_node() -> None:
    nuke.createNode(NODE_CLASS)


def render_selected() -> None:
    for name in _selected():
        _guarded(render.render_node, name, "render")


def cancel_selected() -> None:
    for name in _selected():
        _guarded(render.cancel_node, name, "cancel")


def retry_selected() -> None:
    for name in _selected():
        _guarded(render.retry_node, name, "retry")


def show_panel(title: str) -> None:
    """Open a registered dockable panel through its Pane menu entry (created by registerWidgetAsPanel)."""
    item = nuke.menu("Pane").findItem(title)
    if item is None:
        _tell(f"The {title} panel is not registered; check the terminal for menu.py errors.")
        return
    item.invoke()


def reattach_on_script_load() -> None:
    try:
        render.reattach_all()
    except Exception:
        log.exception("nuke-comfyui: re-attaching renders failed")
