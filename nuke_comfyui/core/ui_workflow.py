"""ComfyUI's normal workflow files (the frontend's Save) converted to the API format servers run.

Artists save with Workflow > Save, not Export (API). That file stores the graph as the editor
draws it: `nodes` with positional `widgets_values` and `links` as
`[id, origin node, origin slot, target node, target slot, type]` (or objects with those names in
the newer schema). The conversion does what the frontend's own graph-to-prompt does:

- widget values are matched to inputs by the server's `/object_info` order (required, then
  optional; sockets and `forceInput` widgets take no value), skipping the `fixed` / `randomize`
  / ... value stored after a `control_after_generate` widget, and ignoring trailing extras such as
  LoadImage's upload button;
- Reroute nodes are followed to their source; a PrimitiveNode's value replaces the widget it
  feeds; Note nodes are dropped;
- muted nodes (mode 2) are left out with the links from them; bypassed nodes (mode 4) are left
  out and each output is fed by the node's input of the same type, as ComfyUI passes it through;
- nodes come out in the frontend's execution order (`order`, then id), titled by `_meta.title`.

What cannot be converted faithfully is refused by name: a subgraph or group node, or a class no
server knows, with the advice to use Export (API).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core.errors import WorkflowError

MUTED, BYPASSED = 2, 4
VIRTUAL_SKIPPED = frozenset({"Note", "MarkdownNote"})
EXPORT_HINT = "open it in ComfyUI and use Workflow > Export (API), then pick that file"

Source = Optional[Tuple[str, int]]  # (origin node id, origin slot) or None for "nothing"


def is_ui_workflow(data: Any) -> bool:
    """The frontend's saved format: a graph of `nodes` and `links`."""
    return isinstance(data, dict) and isinstance(data.get("nodes"), list) and "links" in data


def _links(data: Dict[str, Any]) -> Dict[int, Tuple[str, int, str, int, str]]:
    """link id -> (origin id, origin slot, target id, target slot, type), from either schema."""
    found: Dict[int, Tuple[str, int, str, int, str]] = {}
    for link in data.get("links") or []:
        if isinstance(link, list) and len(link) >= 5:
            lid, origin, oslot, target, tslot = link[:5]
            kind = link[5] if len(link) > 5 else "*"
        elif isinstance(link, dict):
            lid, origin, oslot = link.get("id"), link.get("origin_id"), link.get("origin_slot")
            target, tslot, kind = link.get("target_id"), link.get("target_slot"), link.get("type", "*")
        else:
            continue
        if isinstance(lid, int) and isinstance(oslot, int):
            found[lid] = (str(origin), oslot, str(target), int(tslot or 0), str(kind))
    return found


class _Converter:
    def __init__(self, data: Dict[str, Any], info: oi.ObjectInfo, where: str) -> None:
        self.info = info
        self.where = where
        self.nodes: Dict[str, Dict[str, Any]] = {}
        for node in data.get("nodes") or []:
            if isinstance(node, dict) and "id" in node:
                self.nodes[str(node["id"])] = node
        self.links = _links(data)
        self.subgraphs = {str(s.get("id")) for s in (data.get("definitions") or {}).get("subgraphs") or []
                          if isinstance(s, dict)}

    def describe(self, node: Dict[str, Any]) -> str:
        title = node.get("title")
        return f"node {node.get('id')} ({node.get('type')}{', ' + repr(title) if title else ''})"

    def source_of(self, link_id: Any, seen: Tuple[str, ...] = ()) -> Source:
        """Follow a link back through reroutes and bypassed nodes to the node that really feeds it."""
        link = self.links.get(link_id) if isinstance(link_id, int) else None
        if link is None:
            return None
        origin_id, slot = link[0], link[1]
        origin = self.nodes.get(origin_id)
        if origin is None or origin_id in seen:
            return None
        mode = origin.get("mode", 0)
        if origin.get("type") == "Reroute" or mode == BYPASSED:
            return self._pass_through(origin, slot, (*seen, origin_id))
        if mode == MUTED or origin.get("type") in VIRTUAL_SKIPPED:
            return None
        return (origin_id, slot)

    def _pass_through(self, node: Dict[str, Any], slot: int, seen: Tuple[str, ...]) -> Source:
        inputs = [i for i in node.get("inputs") or [] if isinstance(i, dict)]
        if node.get("type") == "Reroute":
            return self.source_of(inputs[0].get("link"), seen) if inputs else None
        outputs = node.get("outputs") or []
        kind = outputs[slot].get("type") if slot < len(outputs) and isinstance(outputs[slot], dict) else None
        candidates = ([inputs[slot]] if slot < len(inputs) and inputs[slot].get("type") == kind else []) + \
                     [i for i in inputs if i.get("type") == kind]
        for candidate in candidates:
            if candidate.get("link") is not None:
                return self.source_of(candidate.get("link"), seen)
        return None

    def primitive_value(self, link_id: Any) -> Tuple[bool, Any]:
        """(True, value) when the link comes from a PrimitiveNode (through reroutes)."""
        link = self.links.get(link_id) if isinstance(link_id, int) else None
        while link is not None:
            origin = self.nodes.get(link[0])
            if origin is None:
                return False, None
            if origin.get("type") == "Reroute":
                ins = origin.get("inputs") or []
                upstream = ins[0].get("link") if ins and isinstance(ins[0], dict) else None
                link = self.links.get(upstream) if isinstance(upstream, int) else None
                continue
            if origin.get("type") == "PrimitiveNode":
                values = origin.get("widgets_values") or []
                return (True, values[0]) if values else (False, None)
            return False, None
        return False, None

    def check_class(self, node: Dict[str, Any]) -> None:
        kind = str(node.get("type"))
        if kind in self.subgraphs or "workflow>" in kind or "workflow/" in kind:
            raise WorkflowError(f"{self.where}: {self.describe(node)} is a subgraph or group node, which "
                                f"cannot be converted here; {EXPORT_HINT}")
        if kind not in self.info:
            raise WorkflowError(f"{self.where}: {self.describe(node)} uses class {kind!r}, which no server "
                                f"answering /object_info has; install it on the servers, or {EXPORT_HINT}")

    def convert_node(self, node: Dict[str, Any]) -> Dict[str, Any]:
        kind = str(node["type"])
        specs = oi.class_inputs(self.info, kind) or []
        ui_inputs = {str(i.get("name")): i for i in node.get("inputs") or [] if isinstance(i, dict)}
        widget_of = {str((i.get("widget") or {}).get("name")): i for i in ui_inputs.values()
                     if isinstance(i.get("widget"), dict)}
        values = node.get("widgets_values")
        by_name = values if isinstance(values, dict) else None
        queue: List[Any] = list(values) if isinstance(values, list) else []
        inputs: Dict[str, Any] = {}
        for spec in specs:
            if spec.is_widget:
                value: Any = by_name.get(spec.name) if by_name is not None else (queue.pop(0) if queue else None)
                has_value = (spec.name in by_name) if by_name is not None else value is not None
                if spec.control_after_generate and queue and queue[0] in oi.CONTROL_VALUES:
                    queue.pop(0)
                linked = widget_of.get(spec.name) or ui_inputs.get(spec.name)
                if linked is not None and linked.get("link") is not None:
                    is_primitive, primitive = self.primitive_value(linked.get("link"))
                    if is_primitive:
                        inputs[spec.name] = primitive
                        continue
                    source = self.source_of(linked.get("link"))
                    if source is not None:
                        inputs[spec.name] = [source[0], source[1]]
                        continue
                if has_value:
                    inputs[spec.name] = value
                continue
            socket = ui_inputs.get(spec.name)
            source = self.source_of(socket.get("link")) if socket is not None else None
            if source is not None:
                inputs[spec.name] = [source[0], source[1]]
        title = node.get("title") or oi.display_name(self.info, kind)
        return {"inputs": inputs, "class_type": kind, "_meta": {"title": str(title)}}

    def convert(self) -> Dict[str, Dict[str, Any]]:
        ordered = sorted(self.nodes.values(), key=lambda n: (n.get("order", 1 << 30), _id_key(str(n["id"]))))
        prompt: Dict[str, Dict[str, Any]] = {}
        for node in ordered:
            kind = node.get("type")
            if node.get("mode", 0) in (MUTED, BYPASSED) or kind in ("Reroute", "PrimitiveNode") \
                    or kind in VIRTUAL_SKIPPED:
                continue
            self.check_class(node)
            prompt[str(node["id"])] = self.convert_node(node)
        if not prompt:
            raise WorkflowError(f"{self.where} has no node to run (all muted, bypassed or notes)")
        for node in prompt.values():  # a link into something we left out is no link at all
            for name, value in list(node["inputs"].items()):
                if isinstance(value, list) and len(value) == 2 and str(value[0]) not in prompt:
                    del node["inputs"][name]
        return prompt


def convert(data: Dict[str, Any], info: oi.ObjectInfo, where: str = "workflow") -> Dict[str, Dict[str, Any]]:
    """The API-format prompt of a UI-format workflow, using `info` (merged `/object_info`)."""
    if not info:
        raise WorkflowError(f"{where} is a ComfyUI UI workflow (saved with Save); converting it needs a server "
                            f"answering /object_info and none did; start a server, or {EXPORT_HINT}")
    return _Converter(data, info, where).convert()


def _id_key(node_id: str) -> Tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (1 << 30, node_id)
