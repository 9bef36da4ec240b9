"""The API prompt of the flattened graph: the frontend's `graphToPrompt`, node by node.

For each node that runs (not virtual, not a subgraph instance, not muted or bypassed): every
widget's value under its input name (an array wrapped as `{"__value__": [...]}`, as the frontend
does so the server never mistakes it for a link), then every input socket traced to its source:
a link `[execution id, slot]`, or a promoted value from the subgraph instance around it, which
replaces the widget's own. Links to nodes that do not run are dropped last, as the frontend does.
"""

from __future__ import annotations

from typing import Any, Dict, List, Set

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.ui_convert import frontend_defs, helper_nodes, marks, node_widgets, server_schema
from nuke_comfyui.core.ui_convert.execution_graph import ExecNode, ExecutionGraph, LinkTo, Literal
from nuke_comfyui.core.ui_convert.ui_graph import BYPASS, NEVER

Prompt = Dict[str, Dict[str, Any]]
EXPORT_HINT = "open it in ComfyUI and use Workflow > Export (API), then pick that file"


def encode(value: Any, widget_type: str = "") -> Any:
    """A widget value as the frontend sends it (arrays boxed so they cannot look like links)."""
    if isinstance(value, list):
        return {"__type__": "CURVE", "__value__": value} if widget_type == "CURVE" else {"__value__": value}
    return value


def runs(entry: ExecNode) -> bool:
    """Whether the frontend sends this node to the server."""
    return (entry.definition is None and not helper_nodes.is_virtual(entry.node.type)
            and entry.node.mode not in (NEVER, BYPASS))


def build(graph: ExecutionGraph, widgets: node_widgets.Widgets, info: oi.ObjectInfo) -> Prompt:
    prompt: Prompt = {}
    for entry in graph.nodes.values():
        if entry.definition is not None and (entry.parent is not None or entry.node.mode not in (NEVER, BYPASS)):
            widgets.check_instance_names(entry)  # (a root instance that does not run is never opened)
        if runs(entry):
            prompt[entry.id] = _node(graph, widgets, info, entry)
    for node in prompt.values():
        for name, value in list(node["inputs"].items()):
            if isinstance(value, list) and len(value) == 2 and str(value[0]) not in prompt:
                del node["inputs"][name]
    return prompt


def _check_class(graph: ExecutionGraph, info: oi.ObjectInfo, entry: ExecNode) -> Dict[str, Any]:
    kind = entry.node.type
    where = graph.where
    if kind in graph.workflow.group_nodes or kind.startswith("workflow>") or kind.startswith("workflow/"):
        raise WorkflowError(f"{where}: {entry.node.describe()} is a legacy group node, which cannot be converted; "
                            "in ComfyUI right-click it and convert it to a subgraph (or use Workflow > Export "
                            "(API)), then save again")
    class_entry = info.get(kind)
    if not isinstance(class_entry, dict):
        raise WorkflowError(f"{where}: {entry.node.describe()} uses class {kind!r}, which no server answering "
                            f"/object_info has; install it on the servers, or {EXPORT_HINT}")
    for spec in frontend_defs.class_inputs(class_entry):
        made_by = frontend_defs.QUEUE_TIME_WIDGETS.get(spec.widget_type or "")
        if made_by:
            raise WorkflowError(f"{where}: {entry.node.describe()} takes its input {spec.name!r} from {made_by} "
                                "when ComfyUI queues it, which no saved file holds; render that part in ComfyUI, "
                                "or replace the node with one that loads a file")
    return class_entry


def _node(graph: ExecutionGraph, widgets: node_widgets.Widgets, info: oi.ObjectInfo,
          entry: ExecNode) -> Dict[str, Any]:
    class_entry = _check_class(graph, info, entry)
    own = widgets.of(entry)
    declared = [item.name for item in server_schema.expand(class_entry, {})]
    node_widgets.check_named_values(entry, own, declared, graph.where)
    inputs: Dict[str, Any] = {}
    dynamic: List[str] = []
    for item in own.values:
        if item.spec.widget_type in frontend_defs.UNSENT_WIDGET_TYPES:
            continue
        inputs[item.spec.name] = encode(item.value, item.spec.widget_type or "")
        if item.spec.dynamic_prompts:
            dynamic.append(item.spec.name)
    allowed = _socket_names(class_entry, {v.spec.name: v.value for v in own.values})
    stale = _stale_dynamic_prefixes(own)
    for index, slot in enumerate(entry.inputs):
        if any(slot.name.startswith(prefix) for prefix in stale) and slot.name not in allowed:
            continue  # an input of a dynamic option that is not the chosen one: the frontend removed it
        resolved = graph.resolve_input(entry, index)
        if isinstance(resolved, Literal):
            inputs[slot.name] = encode(resolved.value)
            if slot.name in dynamic:  # the instance's value is sent as typed (frontend 1.49's rule)
                dynamic.remove(slot.name)
        elif isinstance(resolved, LinkTo):
            inputs[slot.name] = [resolved.node, resolved.slot]
    title = entry.node.title or oi.display_name(info, entry.node.type)
    node: Dict[str, Any] = {"inputs": inputs, "class_type": entry.node.type, "_meta": {"title": title}}
    if entry.titles:
        marks.put(node, "path", list(entry.titles))
    if dynamic:
        marks.put(node, "dynamic_prompts", dynamic)
    return node


def _socket_names(class_entry: Dict[str, Any], live: Dict[str, Any]) -> Set[str]:
    return {item.name for item in server_schema.expand(class_entry, live)}


def _stale_dynamic_prefixes(own: node_widgets.NodeWidgets) -> List[str]:
    return [f"{v.spec.name}." for v in own.values if v.spec.widget_type == frontend_defs.DYNAMIC_COMBO]
