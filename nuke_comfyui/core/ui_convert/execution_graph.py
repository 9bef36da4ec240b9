"""The saved graph flattened into the nodes the frontend executes, and each input traced to its source.

Every subgraph instance is opened into its definition's nodes; a node inside gets the execution
id `instance:inner` (nested: `outer:middle:inner`), unique per instance and stable across saves.
Tracing an input follows the frontend's `ExecutableNodeDTO.resolveInput` / `resolveOutput`:

- a link from a subgraph's input proxy leaves the subgraph through its instance: the instance's
  outer link if it has one, else the instance's own widget value for that input (promoted widget);
- a link from an instance's output enters the definition at the node feeding that output;
- a muted node (mode 2) gives nothing; a bypassed node (mode 4) passes on the input of the same
  slot when its type fits, else the first input of the wanted type;
- a virtual node (Reroute, a legacy PrimitiveNode, Get/Set variable nodes) passes on its input.

A link or node the file refers to but does not have, or a loop, is refused by name.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Set, Tuple, Union

from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.ui_convert import helper_nodes
from nuke_comfyui.core.ui_convert.exec_nodes import ExecNode, LinkTo, Literal
from nuke_comfyui.core.ui_convert.ui_graph import (
    BYPASS,
    INPUT_NODE_ID,
    NEVER,
    Graph,
    InputSlot,
    UiNode,
    Workflow,
)

__all__ = ["ExecNode", "ExecutionGraph", "LinkTo", "Literal", "Resolved", "instance_inputs", "valid_connection"]

MAX_DEPTH = 32  # subgraphs nested deeper than this are a loop in all but name


Resolved = Union[None, LinkTo, Literal]


class ExecutionGraph:
    """The flattened nodes (by execution id, in order) and the input tracing over them."""

    def __init__(self, workflow: Workflow, where: str) -> None:
        self.workflow = workflow
        self.where = where
        self.nodes: Dict[str, ExecNode] = {}
        #: a promoted value per (instance execution id, input index); set by node_widgets
        self.promoted: Callable[[ExecNode, int], Tuple[bool, object]] = lambda _e, _i: (False, None)
        for node in _ordered(workflow.root):
            self._add(node, workflow.root, (), (), None)

    # -- building -------------------------------------------------------------------------------
    def _add(self, node: UiNode, graph: Graph, path: Tuple[str, ...], titles: Tuple[str, ...],
             parent: Optional[ExecNode]) -> None:
        exec_id = ":".join((*path, node.id))
        definition = self.workflow.subgraphs.get(node.type)
        entry = ExecNode(exec_id, node, graph, path, titles, parent,
                         instance_inputs(node, definition) if definition else list(node.inputs), definition)
        self.nodes[exec_id] = entry
        if definition is None or (parent is None and node.mode in (NEVER, BYPASS)):
            return  # the frontend opens a root instance only when it runs; nested ones always
        if len(path) >= MAX_DEPTH or definition.id in self._open_definitions(entry):
            raise WorkflowError(f"{self.where}: {self.describe(entry)} contains itself (subgraph "
                                f"{definition.name or definition.id!r}); remove the loop in ComfyUI")
        title = node.title or definition.name or node.type
        for inner in _ordered(definition):
            self._add(inner, definition, (*path, node.id), (*titles, title), entry)

    @staticmethod
    def _open_definitions(entry: ExecNode) -> Set[str]:
        found: Set[str] = set()
        parent = entry.parent
        while parent is not None:
            if parent.definition is not None:
                found.add(parent.definition.id)
            parent = parent.parent
        return found

    def describe(self, entry: ExecNode) -> str:
        """`node 5 (KSampler, 'title')`, or `subgraph instance 12 ('Detailer')` for an instance."""
        if entry.definition is None:
            return entry.node.describe()
        return f"subgraph instance {entry.id} ({(entry.node.title or entry.definition.name or entry.node.type)!r})"

    def at(self, path: Tuple[str, ...], node_id: str) -> Optional[ExecNode]:
        return self.nodes.get(":".join((*path, node_id)))

    # -- tracing --------------------------------------------------------------------------------
    def resolve_input(self, entry: ExecNode, index: int, seen: Optional[Set[str]] = None,
                      wanted: Optional[str] = None) -> Resolved:
        """What feeds input slot `index` of `entry`: another node's output, a promoted value, or nothing."""
        seen = set() if seen is None else seen
        self._visit(seen, f"{entry.id}[I]{index}", entry)
        if index >= len(entry.inputs):
            raise WorkflowError(f"{self.where}: {self.describe(entry)} has no input slot {index}, which a "
                                "bypassed node needs; save the workflow again in ComfyUI")
        slot = entry.inputs[index]
        if slot.link is None:
            return None
        link = entry.graph.links.get(slot.link)
        if link is None:
            raise WorkflowError(f"{self.where}: input {slot.name!r} of {self.describe(entry)} uses link "
                                f"{slot.link}, which the file does not have; reconnect it in ComfyUI and save again")
        if entry.parent is not None and link.origin == INPUT_NODE_ID:
            return self._from_instance(entry.parent, link.origin_slot, seen)
        origin = self.at(entry.path, link.origin)
        if origin is None:
            raise WorkflowError(f"{self.where}: input {slot.name!r} of {self.describe(entry)} links to node "
                                f"{link.origin}, which the file does not have; reconnect it in ComfyUI")
        return self.resolve_output(origin, link.origin_slot, wanted or slot.type, seen)

    def _from_instance(self, instance: ExecNode, index: int, seen: Set[str]) -> Resolved:
        if index >= len(instance.inputs):
            raise WorkflowError(f"{self.where}: {self.describe(instance)} has no input {index} that its "
                                "subgraph uses; save the workflow again in ComfyUI")
        if instance.inputs[index].link is None:
            has_value, value = self.promoted(instance, index)
            return Literal(value) if has_value else None
        return self.resolve_input(instance, index, seen)

    def resolve_output(self, entry: ExecNode, slot: int, wanted: str, seen: Set[str]) -> Resolved:
        """The real source behind output `slot` of `entry` (through bypasses, subgraphs, virtual nodes)."""
        self._visit(seen, f"{entry.id}[O]{slot}", entry)
        if entry.node.mode == NEVER:
            return None
        if entry.node.mode == BYPASS:
            index = self._bypass_input(entry, slot, wanted)
            return None if index < 0 else self.resolve_input(entry, index, seen)
        if entry.definition is not None:
            return self._from_definition_output(entry, slot, wanted, seen)
        if helper_nodes.is_virtual(entry.node.type):
            source = helper_nodes.virtual_source(self, entry, slot)
            if source is None:
                return None
            source_entry, index = source
            return self.resolve_input(source_entry, index, seen, wanted)
        return LinkTo(entry.id, slot)

    def _from_definition_output(self, entry: ExecNode, slot: int, wanted: str, seen: Set[str]) -> Resolved:
        definition = entry.definition
        assert definition is not None
        if slot >= len(definition.outputs):
            raise WorkflowError(f"{self.where}: a link uses output {slot} of {self.describe(entry)}, which its "
                                "subgraph does not have; reconnect it in ComfyUI")
        link = next((definition.links[i] for i in definition.outputs[slot].link_ids if i in definition.links), None)
        if link is None:
            return None
        inner = self.at((*entry.path, entry.node.id), link.origin)
        if inner is None:
            raise WorkflowError(f"{self.where}: output {definition.outputs[slot].name!r} of "
                                f"{self.describe(entry)} comes straight from a subgraph input or a missing "
                                "node, which ComfyUI's frontend cannot queue either; connect it inside the subgraph")
        return self.resolve_output(inner, link.origin_slot, wanted, seen)

    def _bypass_input(self, entry: ExecNode, slot: int, wanted: str) -> int:
        """The frontend's choice of the input a bypassed node passes on for output `slot`."""
        inputs = entry.inputs
        if wanted in ("*", ""):
            return slot if len(inputs) > slot else 0
        outputs = output_types(self, entry)
        if slot >= len(outputs):
            raise WorkflowError(f"{self.where}: a link uses output {slot} of bypassed {self.describe(entry)}, "
                                "which it does not have; reconnect it in ComfyUI")
        out_type = outputs[slot]
        if slot < len(inputs) and valid_connection(inputs[slot].type, out_type) \
                and valid_connection(inputs[slot].type, wanted):
            return slot
        for index, item in enumerate(inputs):
            if item.type == wanted:
                return index
        for index, item in enumerate(inputs):
            if valid_connection(item.type, out_type) and valid_connection(item.type, wanted):
                return index
        return -1

    def _visit(self, seen: Set[str], key: str, entry: ExecNode) -> None:
        """A real loop is refused. Keys are per execution id: the frontend keys them per subgraph
        definition, so two chained instances of one subgraph with a bypass inside look like a loop
        to it and it refuses to queue; here they convert."""
        if key in seen:
            raise WorkflowError(f"{self.where}: the links around {self.describe(entry)} form a loop; "
                                "remove it in ComfyUI")
        seen.add(key)


def output_types(graph: ExecutionGraph, entry: ExecNode) -> List[str]:
    """The types of a node's output slots (an instance's come from its definition)."""
    if entry.definition is not None:
        return [o.type for o in entry.definition.outputs]
    return [kind for _name, kind in entry.node.outputs]


def instance_inputs(node: UiNode, definition: Graph) -> List[InputSlot]:
    """An instance's live inputs: its definition's inputs in order, with the instance's saved links and
    widget names matched by name (then saved inputs the definition no longer has)."""
    saved = {slot.name: slot for slot in node.inputs}
    live: List[InputSlot] = []
    for item in definition.inputs:
        mine = saved.pop(item.name, None)
        live.append(InputSlot(item.name, item.type, mine.link if mine else None,
                              mine.widget if mine else None, (mine.label if mine else "") or item.label))
    return live + list(saved.values())


def valid_connection(first: str, second: str) -> bool:
    """LiteGraph's `isValidConnection`: "*" and "" match anything, comma lists match any member."""
    a = "" if first in ("*", "") else first
    b = "" if second in ("*", "") else second
    if not a or not b or a == b:
        return True
    a, b = a.lower(), b.lower()
    if "," not in a and "," not in b:
        return a == b
    return any(valid_connection(x, y) for x in a.split(",") for y in b.split(","))


def _ordered(graph: Graph) -> List[UiNode]:
    """The graph's nodes in the frontend's execution order as saved (`order`, then id)."""
    def key(node: UiNode) -> Tuple[int, int, str]:
        order = node.raw.get("order")
        number = int(node.id) if node.id.lstrip("-").isdigit() else 1 << 30
        return (order if isinstance(order, int) else 1 << 30, number, node.id)
    return sorted(graph.nodes.values(), key=key)
