"""The artist chooses a workflow: the node's knobChanged callback, and the one function behind every way.

Choosing happens three ways: the `workflow file` knob (typed, or the file browser), the studio
pick list, and the Reload / Use buttons. Each ends in `choose_workflow`, which rebuilds the
Workflow tab (values the artist changed are kept where the input still exists, dropped ones are
named), fits the node's input arrows to the workflow's image loaders (host/image_arrows), and
validates it against every enabled server, with notes and the status line on the node. Opening
the panel (the dummy `showPanel` knob, also sent when a node is created in the GUI) fits the
arrows only, so a new node shows one arrow per loader instead of the gizmo's eight.

The callback is registered with `nuke.addKnobChanged(..., nodeClass="ComfyRender")` (and "Group",
for nodes baked into a Group) from menu.py
(GUI sessions only: knobChanged is an interactive event) rather than a `knobChanged` knob in the
gizmo, so scripts saved with the node carry no Python and a farm without the plugin loads them.
Foundry documents knobChanged as "called when the user changes a knob", also with dummy knobs
(`showPanel`, `inputChange`) when the panel opens or inputs change, and Nuke 17 also for
programmatic changes; so the callback
- returns at once for any other knob (it runs on every knob change of every Comfy node),
- is re-entrant: the `workflow_file` it sets itself (pick list) or a rebuild's own knob changes
  do not start a second rebuild,
- never raises into Nuke (problems go on the node's notes and status line, details in the log),
- never waits on the network: it uses the farm's cached `/object_info` (no answer yet means the
  knob types are guessed and the notes say so; press Reload once the servers are up).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Set, Tuple

import nuke

from nuke_comfyui.core.object_info import merge
from nuke_comfyui.host import deferred, dynamic_knobs, image_arrows, knobs, workflow_tab

log = logging.getLogger(__name__)

WATCHED = (knobs.WORKFLOW, workflow_tab.PICK)
PANEL_OPENED = "showPanel"


class _Busy:
    """Full names of nodes whose workflow is being chosen now (re-entrancy guard, main thread only)."""

    nodes: Set[str] = set()


def register() -> None:
    """menu.py: follow workflow changes on every Comfy node (registering twice keeps one entry).

    Also on Groups: a Comfy node baked into a Group (makeGroup) has class Group and keeps its
    marker knob (knobs.MARKER); other Groups return at once.
    """
    nuke.addKnobChanged(knob_changed, nodeClass=knobs.NODE_CLASS)
    nuke.addKnobChanged(knob_changed, nodeClass="Group")


def knob_changed() -> None:
    """The knobChanged callback: the workflow file or the pick list changed on nuke.thisNode()."""
    name = nuke.thisKnob().name()
    if name not in WATCHED and name != PANEL_OPENED and not name.startswith(workflow_tab.PREFIX):
        return
    node = nuke.thisNode()
    if not knobs.is_comfy(node):
        return
    if name == PANEL_OPENED:
        fit_arrows(node)
        return
    if name not in WATCHED and not dynamic_knobs.is_dynamic_knob(node, name):
        return  # (a dynamic combo's new key rebuilds the knobs under it, once its callback returned)
    choose_workflow(node, from_pick=name == workflow_tab.PICK)


def cached_object_infos() -> Tuple[Dict[str, Any], List[str]]:
    """(the enabled servers' cached /object_info by name, notes); starting the farm never waits.

    Without a GUI (`nuke -t`, a pipeline) there is no event loop to rebuild the tab later, so the
    first answers are awaited here instead, bounded like Render's wait (image_staging.OBJECT_INFO_WAIT_S).
    """
    from nuke_comfyui.core.errors import NukeComfyError
    from nuke_comfyui.host.image_staging import object_infos
    from nuke_comfyui.host.session import get_session

    try:
        pool = get_session().farm.pool
        return (pool.object_infos() if nuke.GUI else object_infos(pool)()), []
    except NukeComfyError as exc:
        return {}, [f"server settings: {exc}"]


def choose_workflow(node: Any, from_pick: bool = False) -> List[str]:
    """Rebuild and validate the node's Workflow tab; problems go on the node. Never raises.

    Called from the callback of a knob the rebuild removes (an input knob of the tab), the rebuild
    waits until that callback has returned (host.deferred); [] is returned then.
    """
    name = str(node.fullName())
    if name in _Busy.nodes:
        return []
    try:
        if deferred.must_wait(node, workflow_tab.input_knob_names(node)):
            deferred.after_callback(_choose_later, name, from_pick)
            return []
    except deferred.NoEventLoop as exc:
        _report(node, f"workflow: {exc}")
        return [str(exc)]
    _Busy.nodes.add(name)
    try:
        if from_pick:
            node[knobs.WORKFLOW].setValue(workflow_tab.picked_path(node))
        if not workflow_tab.workflow_path(node):
            image_arrows.sync_inputs(node)
            knobs.show_status(node, "workflow: none chosen; pick a workflow file")
            return []
        per_server, notes = cached_object_infos()
        merged = merge(per_server)  # once for the tab and the arrows (every server's node list)
        notes = notes + workflow_tab.choose(node, per_server, merged=merged)
        if workflow_tab.GUESSED_NOTE in notes and nuke.GUI:  # no event loop to rebuild later in nuke -t
            _rebuild_later(name, workflow_tab.workflow_path(node))
        arrows = image_arrows.sync_inputs(node, merged)
        if arrows:
            _add_notes(node, arrows)
        return notes + arrows
    except Exception as exc:  # a knob callback must never raise into Nuke
        log.warning("nuke-comfyui: choosing the workflow of %s failed", name, exc_info=True)
        _report(node, f"workflow: {exc}")
        return [str(exc)]
    finally:
        _Busy.nodes.discard(name)


def _choose_later(name: str, from_pick: bool) -> None:
    """Main thread, after the callback that asked for it: choose the workflow of node `name` if it still exists."""
    from nuke_comfyui.host.graph import find_node

    node = find_node(name)
    if node is not None:
        choose_workflow(node, from_pick)


def _rebuild_later(name: str, path: str) -> None:
    """Types were guessed (no /object_info cached yet): rebuild once a server answers (tab_refresh)."""
    from nuke_comfyui.host.session import get_session
    from nuke_comfyui.host.tab_refresh import rebuild_when_servers_answer

    rebuild_when_servers_answer(name, path, get_session().farm.pool, _rebuild_if_still_guessed)


def _rebuild_if_still_guessed(name: str, path: str) -> None:
    """Main thread: the servers answered; rebuild only the same workflow's still-guessed tab."""
    from nuke_comfyui.host.graph import find_node

    node = find_node(name)
    if node is None or workflow_tab.workflow_path(node) != path or workflow_tab.NOTES not in node.knobs():
        return
    if workflow_tab.GUESSED_NOTE in str(node[workflow_tab.NOTES].value()):
        choose_workflow(node)


def fit_arrows(node: Any, start_farm: bool = True) -> None:
    """Fit the node's input arrows to its workflow (panel opened, node arrived); never raises into Nuke.

    start_farm=False (a node pasted or loaded) uses the servers' node lists only when the farm is
    already running: opening a script must not start network work; a UI-format workflow, which
    needs them, is fitted when its panel opens or at Render.
    """
    from nuke_comfyui.host.session import running_session

    name = str(node.fullName())
    if name in _Busy.nodes:
        return
    try:
        per_server, _ = cached_object_infos() if start_farm or running_session() is not None else ({}, [])
        notes = image_arrows.sync_inputs(node, merge(per_server))
        if notes:
            _add_notes(node, notes)
    except Exception:  # a knob callback must never raise into Nuke
        log.warning("nuke-comfyui: fitting the input arrows of %s failed", name, exc_info=True)


def _add_notes(node: Any, notes: List[str]) -> None:
    """Append the notes the Workflow tab does not show yet (when it has a tab); the log keeps them too.

    Opening the panel again with the same problem adds nothing: no edit, no growing text.
    """
    if workflow_tab.NOTES not in node.knobs():
        for note in notes:
            log.warning("%s: %s", node.fullName(), note)
        return
    old = str(node[workflow_tab.NOTES].value())
    new = [note for note in notes if note not in old.splitlines()]
    for note in new:
        log.warning("%s: %s", node.fullName(), note)
    if new:
        node[workflow_tab.NOTES].setValue("\n".join([line for line in (old,) if line] + new))


def _report(node: Any, text: str) -> None:
    try:
        knobs.show_status(node, text)
        if workflow_tab.NOTES in node.knobs():
            node[workflow_tab.NOTES].setValue(text)
    except Exception:  # the node may be gone; the log has the problem
        log.warning("nuke-comfyui: could not show %r on the node", text, exc_info=True)
