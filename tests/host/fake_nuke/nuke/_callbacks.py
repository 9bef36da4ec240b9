"""knobChanged callbacks: nuke.addKnobChanged / removeKnobChanged / thisKnob, and the artist editing a knob.

Sources: Nuke's own `callbacks.py` (shipped with Nuke; `_addCallback` keeps a callback once per
node class, re-adding moves it last; `_doCallbacks` runs the node class's list, then '*', each
entry filtered by its `node=`), and Foundry's Python API reference for `nuke.addKnobChanged`
(Nuke 13-16: "Add code to execute when the user changes a knob. The knob is available in
nuke.thisKnob() and the node in nuke.thisNode(). This is also called with dummy knobs when the
control panel is opened or when the inputs to the node changes").

What the fake models, and what it refuses:
- `_fake_user_edit(knob, value)` plays the artist changing a knob in the node's control panel
  (typing a path or picking from the file browser, choosing a pull-down item): the value is set,
  then the callbacks run with thisNode()/thisKnob() set. Buttons, tabs and labels are not edited
  that way (press a button with `knob.execute()`), and without a GUI there is no artist: refused.
- `_fake_open_panel(node)` runs them with the dummy knob `showPanel` (opening the panel).
- A programmatic `setValue` runs no callback here. Nuke 15 runs them for a programmatic change
  only while the node's panel is open, and Nuke 17's reference says every change does; the fake
  cannot know which panel is open, so code must be correct both ways (idempotent, re-entrant).
- The current group inside a knobChanged callback is not documented: `nuke.thisGroup()` (and
  so `createNode`, bare `toNode`/`allNodes`) refuses there unless the code opened a group with
  `with group:` first. A node's own `knobChanged` knob (a gizmo's script) is not modelled.
- An exception in a callback propagates (Nuke would print it in the Script Editor): a test sees it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ._knobs import Knob, Script_Knob, Tab_Knob, Text_Knob
from ._state import not_modelled, require_main_thread, state

if TYPE_CHECKING:
    from ._nodes import Node

Entry = Tuple[Callable[..., Any], tuple, dict, Optional["Node"]]


def _entry(call: Any, args: Any, kwargs: Any, node: Any) -> Entry:
    if not callable(call):
        raise ValueError("call must be a callable")
    if not isinstance(args, tuple):
        args = (args,)
    if not isinstance(kwargs, dict):
        raise ValueError("kwargs must be a dictionary")
    return (call, args, kwargs, node)


def addKnobChanged(call: Callable[..., Any], args: Any = (), kwargs: Optional[Dict[str, Any]] = None,
                   nodeClass: str = "*", node: Any = None) -> None:
    """Register call for knob changes on nodes of nodeClass ('*': every node), listed once."""
    entry = _entry(call, args, {} if kwargs is None else kwargs, node)
    listed = state().knob_changed.setdefault(nodeClass, [])
    if entry in listed:
        listed.remove(entry)
    listed.append(entry)


def removeKnobChanged(call: Callable[..., Any], args: Any = (), kwargs: Optional[Dict[str, Any]] = None,
                      nodeClass: str = "*", node: Any = None) -> None:
    """Remove a callback added with the same arguments (nothing happens when it is not there)."""
    entry = _entry(call, args, {} if kwargs is None else kwargs, node)
    listed = state().knob_changed.get(nodeClass, [])
    if entry in listed:
        listed.remove(entry)


def thisKnob() -> Knob:
    """The knob whose change (or button press) is being handled."""
    if not state().this_knob:
        raise RuntimeError("thisKnob() outside a knob callback")
    return state().this_knob[-1]


def run_knob_changed(node: Node, knob: Knob) -> None:
    """Nuke's `knobChanged()`: node class's callbacks, then '*', with thisNode()/thisKnob() set."""
    require_main_thread("knobChanged")
    own = node._knobs.get("knobChanged")
    if own is not None and str(own.value()).strip():
        raise not_modelled(f"{node.name()}'s own knobChanged knob script")
    table = state().knob_changed
    due = [e for e in table.get(node.Class(), []) + table.get("*", []) if e[3] is None or e[3] is node]
    state().this_node.append(node)
    state().this_knob.append(knob)
    state().in_knob_changed += 1
    try:
        for call, args, kwargs, _ in due:
            call(*args, **kwargs)
    finally:
        state().in_knob_changed -= 1
        state().this_knob.pop()
        state().this_node.pop()


def user_edit(knob: Knob, value: Any) -> None:
    """The artist sets knob to value in the control panel; knobChanged callbacks follow."""
    if not state().gui:
        raise RuntimeError("fake nuke: no artist edits knobs without a GUI (nuke -t)")
    if isinstance(knob, (Script_Knob, Tab_Knob, Text_Knob)):
        raise not_modelled(f"editing {type(knob).__name__} {knob.name()!r} in the panel (press buttons with "
                           "knob.execute())")
    node = knob._node
    if node is None:
        raise not_modelled(f"editing knob {knob.name()!r} that is on no node")
    knob.setValue(value)
    run_knob_changed(node, knob)


def open_panel(node: Node) -> None:
    """The artist opens the node's control panel: callbacks run with the dummy knob 'showPanel'."""
    if not state().gui:
        raise RuntimeError("fake nuke: no control panels without a GUI (nuke -t)")
    dummy = Knob("showPanel")
    dummy._node = node
    run_knob_changed(node, dummy)


def registered() -> List[Entry]:
    return [e for entries in state().knob_changed.values() for e in entries]
