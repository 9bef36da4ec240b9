"""The value of every widget of every flattened node, as the frontend holds them when it queues.

A node's own widgets come from its saved `widgets_values` (`widget_values.assign`), then the
legacy PrimitiveNodes write theirs (`helper_nodes.apply_primitives`). A subgraph instance shows
one widget per input of its subgraph that is wired to a widget inside (a promoted widget): it
starts with that inner widget's value, and the instance's own `widgets_values` replace them in
order (one per such input), so two instances of one subgraph can hold different values. Inner
nodes read those values through their links from the subgraph's input proxy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.ui_convert import frontend_defs, helper_nodes, widget_values
from nuke_comfyui.core.ui_convert.execution_graph import ExecNode, ExecutionGraph
from nuke_comfyui.core.ui_convert.ui_graph import INPUT_NODE_ID


@dataclass
class NodeWidgets:
    """One node's widget values (in widget order) and the input specs the frontend built it from."""

    values: List[widget_values.WidgetValue] = field(default_factory=list)

    def get(self, name: str) -> Tuple[bool, Any]:
        for item in self.values:
            if item.spec.name == name:
                return True, item.value
        return False, None

    def names(self) -> List[str]:
        return [item.spec.name for item in self.values]


class Widgets:
    """Widget values of every node of an ExecutionGraph, and the promoted values of its instances."""

    def __init__(self, graph: ExecutionGraph, info: oi.ObjectInfo) -> None:
        self.graph = graph
        self.info = info
        self._own: Dict[str, NodeWidgets] = {}
        self._promoted: Dict[str, Dict[int, Any]] = {}
        self._written = helper_nodes.apply_primitives(graph)
        graph.promoted = self.promoted

    def of(self, entry: ExecNode) -> NodeWidgets:
        """The node's widgets after loading and after the primitives wrote theirs."""
        if entry.id not in self._own:
            self._own[entry.id] = self._load(entry, with_primitives=True)
        return self._own[entry.id]

    def _load(self, entry: ExecNode, with_primitives: bool) -> NodeWidgets:
        class_entry = self.info.get(entry.node.type)
        if not isinstance(class_entry, dict):
            return NodeWidgets()
        specs = frontend_defs.class_inputs(class_entry)
        loaded = widget_values.assign(specs, entry.node.widgets_values)
        written = self._written.get(entry.id, {}) if with_primitives else {}
        return NodeWidgets([widget_values.WidgetValue(v.spec, written[v.spec.name], True)
                            if v.spec.name in written else v for v in loaded])

    # -- promoted widgets of subgraph instances ---------------------------------------------------
    def promoted(self, instance: ExecNode, index: int) -> Tuple[bool, Any]:
        """(True, value) of the instance's widget for input `index`; (False, None) when it has none."""
        values = self._promoted_values(instance)
        return (True, values[index]) if index in values else (False, None)

    def _promoted_values(self, instance: ExecNode) -> Dict[int, Any]:
        if instance.id in self._promoted:
            return self._promoted[instance.id]
        self._promoted[instance.id] = {}  # a nested lookup of the same instance finds no value, not a loop
        values: Dict[int, Any] = {}
        for index in range(len(instance.inputs)):
            found, value = self._inner_widget_value(instance, index)
            if found:
                values[index] = value
        saved = instance.node.widgets_values
        if isinstance(saved, list):
            for position, index in enumerate(sorted(values)):
                if position < len(saved):
                    values[index] = saved[position]
        written = self._written.get(instance.id, {})
        for index, slot in enumerate(instance.inputs):
            if index in values and slot.name in written:
                values[index] = written[slot.name]
        values = {index: value for index, value in values.items() if value is not _UNSET}
        self._promoted[instance.id] = values
        return values

    def check_instance_names(self, instance: ExecNode) -> None:
        """An instance saved with `widgets_values_named` names the inputs its values belong to; when this
        server makes other inputs into widgets (an inner node lacks a widget), positions would shift."""
        named = instance.node.named_values
        if named is None or instance.definition is None or not isinstance(instance.node.widgets_values, list):
            return
        ours = [slot.name for index, slot in enumerate(instance.inputs) if self._inner_widget_value(instance, index)[0]]
        missing = [key for key in named if key not in ours]
        if missing:
            raise WorkflowError(
                f"{self.graph.where}: {self.graph.describe(instance)} was saved with a value for input(s) "
                f"{', '.join(missing)}, which on this server's nodes inside it are no widget (another version of a "
                "node inside); update ComfyUI on the servers, or open and save the workflow with the servers' version")

    def _inner_widget_value(self, instance: ExecNode, index: int) -> Tuple[bool, Any]:
        """The value of the first widget inside that the subgraph's input `index` is wired to."""
        definition = instance.definition
        if definition is None or index >= len(definition.inputs):
            return False, None
        for link_id in definition.inputs[index].link_ids:
            link = definition.links.get(link_id)
            if link is None or link.origin != INPUT_NODE_ID:
                continue
            inner = self.graph.at((*instance.path, instance.node.id), link.target)
            if inner is None:
                continue
            slot_index = next((i for i, s in enumerate(inner.inputs) if s.link == link_id), None)
            if slot_index is None:
                continue
            slot = inner.inputs[slot_index]
            if inner.definition is not None:
                nested = self._promoted_values(inner)
                if slot_index in nested or self._has_widget(inner, slot_index):
                    return True, nested.get(slot_index, _UNSET)
                continue
            if slot.widget:
                found, value = self._load(inner, with_primitives=False).get(slot.widget)
                if found:
                    return True, value
        return False, None

    def _has_widget(self, instance: ExecNode, index: int) -> bool:
        found, _value = self._inner_widget_value(instance, index)
        return found


_UNSET = object()  # a promoted widget whose value is undefined (the frontend then sends no key)


def check_named_values(entry: ExecNode, widgets: NodeWidgets, declared: List[str], where: str) -> None:
    """A node saved with `widgets_values_named` by a frontend whose node had other inputs than this
    server's class: its positions would land on the wrong inputs, so the node is refused by name.
    (Values that differ under the same names are the frontend's positional rule at work, not this.)"""
    named = entry.node.named_values
    if named is None or entry.definition is not None:
        return
    ours = set(widgets.names())
    theirs = {key for key in named if key in declared or "." in key}
    missing = sorted(theirs - ours)
    if missing:
        raise WorkflowError(f"{where}: {entry.node.describe()} was saved with input(s) {', '.join(missing)} that this "
                            f"server's {entry.node.type} does not have there (another version of the node); update "
                            "ComfyUI on the servers, or open and save the workflow with the servers' version")
