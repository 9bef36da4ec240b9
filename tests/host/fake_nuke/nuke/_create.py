"""Creating, finding and deleting nodes; button presses; the current frame.

Sources: Foundry's Python API reference (nuke.createNode "connects to the selected node",
nuke.nodes.X(**knobs), nuke.allNodes(filter, group, recurseGroups), nuke.delete, nuke.frame,
PyScript_Knob.execute). New nodes go into the current group (nuke.thisGroup()); a button on a
group or gizmo runs with that node as the current group, so code inside a gizmo button that
creates nodes without `with nuke.root():` (or the node's parent) creates them inside the gizmo.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional

from . import _classes
from ._knobs import Knob, Script_Knob
from ._nodes import Format, Gizmo, Group, Node, Root, project_path, root, thisGroup
from ._state import not_modelled, require_main_thread, state
from ._undo import record_node


def _unique_name(base: str, group: Group) -> str:
    taken = {n.name() for n in group._children}
    i = 1
    while f"{base}{i}" in taken:
        i += 1
    return f"{base}{i}"


def _find_gizmo(klass: str) -> Optional[Path]:
    for folder in state().plugin_paths:
        candidate = Path(folder) / f"{klass}.gizmo"
        if candidate.is_file():
            return candidate
    return None


def make_node(klass: str, group: Optional[Group] = None) -> Node:
    """A new node of klass in group (default: the current group), with a unique name."""
    from ._script import parse_gizmo

    group = group or thisGroup()
    gizmo = _find_gizmo(klass)
    if gizmo is not None:
        knobs, inputs, inner = parse_gizmo(gizmo)
        node: Node = Gizmo(klass, knobs, 0)
        node._filename = str(gizmo)  # type: ignore[attr-defined]
        for inner_class, inner_name in inner:
            child = make_node(inner_class, node)  # type: ignore[arg-type]
            child._knobs["name"]._value = inner_name
        if inputs != node.maxInputs():
            raise not_modelled(f"{gizmo.name} says `inputs {inputs}` but holds {node.maxInputs()} Input nodes")
    elif klass == "Group":
        node = Group("Group", [], 0)
    else:
        knobs, inputs = _classes.builtin(klass)
        node = Node(klass, knobs, inputs)
    node._parent = group
    node._knobs["name"]._value = _unique_name(klass, group)
    if klass == "Input" and not isinstance(group, Root):
        _add_group_input(node, group)
    group._children.append(node)
    return node


def _add_group_input(node: Node, group: Group) -> None:
    """A group has one input per Input node inside it, numbered in creation order (Foundry's
    Input reference: "Adds an input arrow to a Group node"; Nukepedia "Working with Pipe Numbers")."""
    node._knobs["number"]._value = len(group._inputs)
    group._inputs.append(None)


def _remove_group_input(node: Node, group: Group) -> None:
    """Deleting the last-numbered Input removes the group's last input (and its connection).
    Deleting another one renumbers the rest in Nuke, which the fake does not model."""
    number = int(node._knobs["number"]._value)
    if number != len(group._inputs) - 1:
        raise not_modelled(f"deleting Input node {node.name()} (number {number}) that is not the "
                           f"last of {group.name()}'s {len(group._inputs)} inputs (Nuke renumbers the rest)")
    group._inputs.pop()


def input_labels(group: Group) -> List[str]:
    """The labels Nuke draws on a group's input arrows: each Input node's name without a leading
    "Input" ("Input1" -> "1", "Inputimg" or "img" -> "img"; keheka "The Hidden Number In Nuke")."""
    by_number = {int(n._knobs["number"]._value): n.name() for n in group._children
                 if n.Class() == "Input" and not n._deleted}
    return [by_number[i][len("Input"):] if by_number[i].startswith("Input") else by_number[i]
            for i in range(len(group._inputs))]


def free_name(node: Node) -> None:
    """A pasted node whose name a sibling already has takes the next free number (Read1 -> Read2)."""
    group = node._parent
    name = node.name()
    if group is None or not any(n is not node and n.name() == name for n in group._children):
        return
    base = re.sub(r"\d+$", "", name) or node.Class()
    taken = {n.name() for n in group._children if n is not node}
    i = 1
    while f"{base}{i}" in taken:
        i += 1
    node._knobs["name"]._value = f"{base}{i}"


def run_on_create(node: Node) -> None:
    """The onCreate callbacks of node's class, then '*', with thisNode() = node (Nuke's callbacks.py)."""
    due = [(c, a, k) for c, a, k, klass in state().on_create if klass in (node.Class(), "*")]
    if not due:
        return
    state().this_node.append(node)
    try:
        for call, args, kwargs in due:
            call(*args, **kwargs)
    finally:
        state().this_node.pop()


def addOnCreate(call: Callable[..., Any], args: Any = (), kwargs: Optional[dict] = None,
                nodeClass: str = "*") -> None:
    """Foundry: run call when a node of nodeClass is created (by hand, by a script, pasted or loaded)."""
    entry = (call, args if isinstance(args, tuple) else (args,), dict(kwargs or {}), nodeClass)
    if entry not in state().on_create:
        state().on_create.append(entry)


def removeOnCreate(call: Callable[..., Any], args: Any = (), kwargs: Optional[dict] = None,
                   nodeClass: str = "*") -> None:
    entry = (call, args if isinstance(args, tuple) else (args,), dict(kwargs or {}), nodeClass)
    if entry in state().on_create:
        state().on_create.remove(entry)


def nodeCopy(s: str) -> None:
    """Foundry: "Copy the selected nodes (and their connections among them) to the file s, or to the
    clipboard with '%clipboard%'"; a connection to a node left out is cut."""
    from ._script import selected_text

    require_main_thread("nodeCopy")
    text = selected_text(thisGroup())
    if s == "%clipboard%":
        state().clipboard = text
    else:
        Path(s).write_text(text)


def nodePaste(s: str) -> Optional[Node]:
    """Foundry: "Paste nodes from a script file or the clipboard ('%clipboard%') into the current group";
    pasted nodes become the selection, names taken get the next free number, onCreate runs for each,
    and each is an undoable edit. Returns the last pasted node."""
    from ._script import load_words
    from ._tcl import iter_words

    require_main_thread("nodePaste")
    text = state().clipboard if s == "%clipboard%" else Path(s).read_text()
    group = thisGroup()
    for node in group._children:
        node._knobs["selected"]._value = False
    created = load_words(list(iter_words(text)), group, pasting=True)
    for node in created:
        if node._parent is group:
            node._knobs["selected"]._value = True
        run_on_create(node)
        record_node(node, "paste")
    return created[-1] if created else None


def copy_node(node: Node, as_group: bool = False) -> Node:
    """A copy of node in the current group (makeGroup: as a plain Group holding copies of its internals)."""
    from ._script import load_words, node_text
    from ._tcl import iter_words

    group = thisGroup()
    text = node_text(node, klass="Group" if as_group else None)
    created = load_words(list(iter_words(text)), group, pasting=True)
    for made in created:
        run_on_create(made)
    return created[0]


def createNode(typ: str, knobs: str = "", inpanel: bool = True) -> Node:
    """Like Nuke: connects to the selected node, places below it and becomes the only selection.

    With a GUI and inpanel (the default), Nuke opens the new node's control panel, which runs the
    knobChanged callbacks with the dummy knob 'showPanel' (Foundry's reference for createNode:
    "inpanel ... If GUI is present, this parameter can be used to open the control panel";
    addKnobChanged: "also called with dummy knobs when the control panel is opened").
    """
    from ._tcl import iter_words, unquote

    require_main_thread("createNode")
    selected = selectedNodes()
    node = make_node(typ)
    words = [unquote(w) for w in iter_words(knobs)]
    for key, value in zip(words[::2], words[1::2]):
        node[key].fromScript(value)
    if selected and node.maxInputs():
        node.setInput(0, selected[0])
        node.setXYpos(selected[0].xpos(), selected[0].ypos() + 60)
    run_on_create(node)
    record_node(node, "create")
    node.selectOnly()
    if inpanel and state().gui:
        from ._callbacks import open_panel

        open_panel(node)
    return node


class _NodeConstructors:
    """nuke.nodes.Read(file=...): a node in the current group with knob values, unconnected."""

    def __getattr__(self, klass: str) -> Callable[..., Node]:
        if klass.startswith("_"):
            raise AttributeError(klass)

        def construct(**knob_values: Any) -> Node:
            require_main_thread(f"nodes.{klass}")
            node = make_node(klass)
            for key, value in knob_values.items():
                if key == "inputs":
                    raise not_modelled("nuke.nodes.X(inputs=...)")
                node[key].setValue(value)
            run_on_create(node)
            record_node(node, "create")
            return node

        return construct


nodes = _NodeConstructors()


def allNodes(filter: Optional[str] = None, group: Optional[Group] = None,
             recurseGroups: bool = False) -> List[Node]:
    require_main_thread("allNodes")
    found: List[Node] = []

    def walk(g: Group) -> None:
        for n in g._children:
            if filter is None or n.Class() == filter:
                found.append(n)
            if recurseGroups and isinstance(n, Group):
                walk(n)

    walk(group or thisGroup())
    return found


def selectedNodes(filter: Optional[str] = None) -> List[Node]:
    require_main_thread("selectedNodes")
    return [n for n in allNodes(filter) if n.isSelected()]


def selectedNode() -> Node:
    chosen = selectedNodes()
    if not chosen:
        raise ValueError("no node selected")
    return chosen[-1]


def delete(n: Optional[Node]) -> None:
    require_main_thread("delete")
    if n is None or n._deleted:
        return
    record_node(n, "delete")
    parent = n._parent
    if n.Class() == "Input" and parent is not None and not isinstance(parent, Root) and not parent._deleted:
        _remove_group_input(n, parent)
    if parent is not None:
        parent._children.remove(n)
    n._deleted = True
    if isinstance(n, Group):
        for child in list(n._children):
            delete(child)


def thisNode() -> Node:
    if not state().this_node:
        raise RuntimeError("thisNode() outside a knob callback")
    return state().this_node[-1]


def frame(f: Optional[float] = None) -> float:
    """The current frame; nuke.frame(f) moves to f (Foundry: nuke.frame)."""
    if f is not None:
        state().frame = float(f)
    current = state().frame
    return int(current) if float(current).is_integer() else current  # type: ignore[return-value]


def run_button(knob: Script_Knob) -> None:
    """A button press: thisNode() is the knob's node, the current group is that node if it is a
    group or gizmo (else its parent), and the code runs in `__main__`'s namespace."""
    node = knob.node()
    context = node if isinstance(node, Group) else (node._parent or root())
    state().this_node.append(node)
    state().this_knob.append(knob)
    context.begin()
    try:
        scope = sys.modules["__main__"].__dict__.copy()
        scope["nuke"] = sys.modules["nuke"]
        exec(compile(str(knob._value), f"<{node.name()}.{knob._name}>", "exec"), scope)
    finally:
        context.end()
        state().this_knob.pop()
        state().this_node.pop()


def read_from_user_text(knob: Knob, text: str) -> None:
    """File_Knob.fromUserText: 'path' or 'path first-last'; a Read reads its range and format from disk."""
    from ._execute import frame_path, image_size

    path, _, span = text.strip().partition(" ")
    knob._value = path
    node = knob._node
    if node is None or node.Class() != "Read":
        return
    first = last = None
    if span.strip():
        a, _, b = span.strip().partition("-")
        first, last = int(a), int(b or a)
    if first is not None:
        for name, value in (("first", first), ("last", last), ("origfirst", first), ("origlast", last)):
            node[name].setValue(value)
    probe = frame_path(project_path(path), int(first if first is not None else node["first"].value()))
    size = image_size(probe)
    if size is not None:
        node["format"].setValue(Format(size[0], size[1], ""))
