"""The script's modified flag and undo history: every change to a node of the script is an edit.

Sources: Foundry's Python API reference for `nuke.Root.modified` / `Root.setModified` ("the
modified flag of the script", what makes Nuke ask to save on close), `nuke.modified()`, and
`nuke.Undo` (`begin`, `end`, `cancel`, `disable`/`enable`: "prevent recording undos until the
matching enable", `undoSize`, `undoDescribe`), and the Nuke user guide ("Undoing and Redoing":
knob changes, node creation and deletion, connections, renames and moves are undoable steps).

What the fake models: each public call that changes a node of the open script (a knob's value,
text, animation or expression, a node's name, inputs or position, knobs added or removed, a node
created, pasted or deleted) marks the script modified and adds one undo item, unless undo is
disabled (then the script is still marked modified). Nuke may skip an edit that sets a knob to
the value it already has; the fake cannot know, so it counts every call: code that must leave a
script untouched (opening a panel) must not call setters at all. Loading a script is not an
edit, and scriptOpen/scriptSave clear the flag. Selecting nodes is not an edit. `nuke.undo()`
(reverting) is not modelled and raises.
"""

from __future__ import annotations

from typing import Any, List, Optional

from ._state import not_modelled, require_main_thread, state

#: method names (of knobs and nodes) that edit the script
EDITS = frozenset({
    "setValue", "setValueAt", "setText", "fromScript", "fromUserText", "setAnimated", "setExpression",
    "clearAnimated", "setValues", "setCommand", "setLabel", "setTooltip", "setFlag", "clearFlag", "setVisible",
    "setName", "setInput", "connectInput", "setXYpos", "setXpos", "setYpos", "addKnob", "removeKnob",
    "makeGroup",
})


def _script_node(obj: Any) -> Optional[Any]:
    """The node of the open script that obj (a knob or a node) belongs to, or None."""
    from ._nodes import Node

    node = obj if isinstance(obj, Node) else getattr(obj, "_node", None)
    current = node
    while current is not None:
        if getattr(current, "_deleted", False):
            return None
        if current is state().root:
            return node
        current = getattr(current, "_parent", None)
    return None


def record(obj: Any, what: str) -> None:
    """One edit of obj (a knob or node) by method `what`; ignored while loading or off-script."""
    current = state()
    if current.loading:
        return
    node = _script_node(obj)
    if node is None:
        return
    current.modified = True
    if current.undo_disabled:
        return
    knob = "" if obj is node else f".{getattr(obj, '_name', '?')}"
    name = node.fullName() if hasattr(node, "fullName") else "root"
    current.undo_items.append(f"{name}{knob} {what}")


def record_node(node: Any, what: str) -> None:
    """A node created, pasted or deleted (module functions, not node methods)."""
    record(node, what)


def edits_since(mark: int) -> List[str]:
    """Undo items recorded after undo size `mark` (test helper)."""
    return list(state().undo_items[mark:])


class Undo:
    """nuke.Undo: the undo history (class methods, as in Foundry's reference)."""

    @classmethod
    def begin(cls, name: str = "") -> None:
        require_main_thread("Undo.begin")

    @classmethod
    def end(cls) -> None:
        require_main_thread("Undo.end")

    @classmethod
    def cancel(cls) -> None:
        raise not_modelled("Undo.cancel (reverting the edits of an undo group)")

    @classmethod
    def disable(cls) -> None:
        require_main_thread("Undo.disable")
        state().undo_disabled += 1

    @classmethod
    def enable(cls) -> None:
        require_main_thread("Undo.enable")
        if state().undo_disabled:
            state().undo_disabled -= 1

    @classmethod
    def disabled(cls) -> bool:
        return bool(state().undo_disabled)

    @classmethod
    def undoSize(cls) -> int:
        return len(state().undo_items)

    @classmethod
    def undoDescribe(cls, n: int = 0) -> str:
        items = state().undo_items
        return items[-1 - n] if n < len(items) else ""

    @classmethod
    def undoTruncate(cls, n: int) -> None:
        del state().undo_items[n:]

    @classmethod
    def undo(cls) -> None:
        raise not_modelled("undoing an edit")

    @classmethod
    def redo(cls) -> None:
        raise not_modelled("redoing an edit")


def undo() -> None:
    raise not_modelled("nuke.undo() (reverting an edit)")


def modified(flag: Optional[bool] = None) -> bool:
    """nuke.modified(): the script's modified flag; nuke.modified(flag) sets it."""
    require_main_thread("modified")
    if flag is not None:
        state().modified = bool(flag)
    return state().modified
