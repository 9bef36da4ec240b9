"""Helper nodes that exist only in the editor: reroutes, notes, legacy primitives, Get/Set variables.

None of them reaches the server; each is followed or applied the way the frontend does when it
queues:

- `Reroute` passes on what feeds its input;
- `Note` and `MarkdownNote` are text on the canvas;
- the legacy `PrimitiveNode` (the frontend's, not the server's `PrimitiveInt`/`PrimitiveFloat`/
  ... classes, which are real nodes) writes its value into the widget of every node its output
  is wired to directly (`applyToGraph`), and feeds nothing;
- `SetNode` / `GetNode` (the common variable helpers, from KJNodes): a Get passes on what feeds
  the Set with the same name in the same graph. A Get without its Set is refused by name.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Protocol, Tuple

from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.ui_convert.exec_nodes import ExecNode


class ExecutionGraph(Protocol):
    """What the helpers need of the flattened graph (execution_graph.ExecutionGraph has it)."""

    where: str
    nodes: Dict[str, ExecNode]

    def at(self, path: Tuple[str, ...], node_id: str) -> Optional[ExecNode]: ...

NOTES = frozenset({"Note", "MarkdownNote"})
PRIMITIVE = "PrimitiveNode"
REROUTE = "Reroute"
GET_NODES = frozenset({"GetNode"})
SET_NODES = frozenset({"SetNode"})
VIRTUAL = frozenset({REROUTE, PRIMITIVE, *NOTES, *GET_NODES, *SET_NODES})


def is_virtual(class_type: str) -> bool:
    """A node the frontend never sends to the server."""
    return class_type in VIRTUAL


def virtual_source(graph: ExecutionGraph, entry: ExecNode, slot: int) -> Optional[Tuple[ExecNode, int]]:
    """(node, input index) whose input a virtual node's output `slot` passes on, or None."""
    kind = entry.node.type
    if kind in GET_NODES:
        setter = _matching_setter(graph, entry)
        return (setter, 0) if setter.inputs else None
    if slot < len(entry.inputs) and entry.inputs[slot].link is not None:
        return entry, slot  # a reroute (and a Set node) pass on the input of the same slot
    return None


def _variable_name(entry: ExecNode) -> str:
    values = entry.node.widgets_values
    return str(values[0]) if isinstance(values, list) and values else ""


def _matching_setter(graph: ExecutionGraph, getter: ExecNode) -> ExecNode:
    name = _variable_name(getter)
    for candidate in graph.nodes.values():
        if candidate.graph is getter.graph and candidate.path == getter.path \
                and candidate.node.type in SET_NODES and _variable_name(candidate) == name:
            return candidate
    raise WorkflowError(f"{graph.where}: {getter.node.describe()} reads variable {name!r}, which no Set node in "
                        "the same graph defines; add the Set node or connect the wire directly in ComfyUI")


def primitive_value(entry: ExecNode) -> Tuple[bool, Any]:
    """(True, value) of a legacy PrimitiveNode's widget; (False, None) before it was ever connected."""
    values = entry.node.widgets_values
    if isinstance(values, list) and values:
        return True, values[0]
    return False, None


def primitive_targets(graph: ExecutionGraph, entry: ExecNode) -> List[Tuple[ExecNode, str]]:
    """(node, widget name) of every widget a PrimitiveNode writes into: direct links from its output 0
    whose target input stands for a widget (a reroute in between gets nothing, as in the frontend)."""
    if entry.node.properties.get("Run widget replace on values"):
        raise WorkflowError(f"{graph.where}: {entry.node.describe()} has 'Run widget replace on values' on, "
                            "whose %...% replacements only ComfyUI's browser fills in; turn it off in ComfyUI")
    found: List[Tuple[ExecNode, str]] = []
    for link in entry.graph.links.values():
        if link.origin != entry.node.id or link.origin_slot != 0:
            continue
        target = graph.at(entry.path, link.target)
        if target is None:
            continue
        slot = next((s for s in target.inputs if s.link == link.id), None)
        if slot is not None and slot.widget:
            found.append((target, slot.widget))
    return found


def apply_primitives(graph: ExecutionGraph) -> Dict[str, Dict[str, Any]]:
    """{execution id: {widget name: value}} that legacy PrimitiveNodes write before the prompt is made."""
    written: Dict[str, Dict[str, Any]] = {}
    for entry in graph.nodes.values():
        if entry.node.type != PRIMITIVE:
            continue
        has_value, value = primitive_value(entry)
        if not has_value:
            continue
        for target, widget in primitive_targets(graph, entry):
            written.setdefault(target.id, {})[widget] = value
    return written
