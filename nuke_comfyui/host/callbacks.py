"""What the gizmo's buttons and the ComfyUI menu call: thin wrappers that report errors to the artist.

A failure here shows a message (GUI) or a log line (no GUI) and never raises into Nuke, because
an exception from a button press only produces a traceback the artist cannot act on. Buttons run
with the gizmo as Nuke's current group, so nodes are passed on by full name (see host.graph).
"""

from __future__ import annotations

import logging
from typing import Callable, List

import nuke

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.host import render
from nuke_comfyui.host.knobs import NODE_CLASS, is_comfy

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


def _this_node() -> str:
    """The full name of the node whose button was pressed (the button runs inside the gizmo)."""
    return str(nuke.thisNode().fullName())


def render_this_node() -> None:
    _guarded(render.render_node, _this_node(), "render")


def cancel_this_node() -> None:
    _guarded(render.cancel_node, _this_node(), "cancel")


def retry_this_node() -> None:
    _guarded(render.retry_node, _this_node(), "retry")


def _selected() -> List[str]:
    names = [n.fullName() for n in nuke.selectedNodes() if is_comfy(n)]
    if not names:
        _tell(f"Select one or more {NODE_CLASS} nodes first.")
    return names


def create_comfy_node() -> None:
    try:
        nuke.createNode(NODE_CLASS)
    except RuntimeError as exc:
        _tell(f"Cannot create a {NODE_CLASS} node: {exc}. Check that the plugin's gizmos folder is on "
              "NUKE_PATH (init.py adds it).")


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
