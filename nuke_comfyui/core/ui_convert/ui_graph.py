"""The saved graph read into plain objects: nodes, their input slots, links, and subgraph definitions.

A UI workflow (schema 0.4 or 1.0) has root `nodes` and `links`, and `definitions.subgraphs`:
each definition is a graph of its own (`nodes`, `links`), with `inputs` and `outputs` that its
instances show as slots. Inside a definition a link from node -10 is a link from the
definition's input slot `origin_slot`, a link to node -20 feeds its output slot `target_slot`.
Links are arrays `[id, origin, origin slot, target, target slot, type]` or objects with those
names. Nothing here decides what the frontend would queue; it only makes the file easy to walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from nuke_comfyui.core.errors import WorkflowError

INPUT_NODE_ID = "-10"  # a subgraph's input proxy
OUTPUT_NODE_ID = "-20"  # a subgraph's output proxy
ALWAYS, NEVER, BYPASS = 0, 2, 4  # LiteGraph's node modes: run, muted, bypassed


@dataclass(frozen=True)
class Link:
    """One wire: origin node's output slot to target node's input slot."""

    id: int
    origin: str
    origin_slot: int
    target: str
    target_slot: int
    type: str


@dataclass(frozen=True)
class InputSlot:
    """One input socket of a node as saved: its name, type, link and the widget it stands for."""

    name: str
    type: str
    link: Optional[int]
    widget: Optional[str]  # the widget's name when this socket is a widget converted to an input
    label: str = ""


@dataclass
class UiNode:
    """One saved node (the file's dict is kept as `raw` for the fields only some callers need)."""

    id: str
    type: str
    mode: int
    title: str
    inputs: List[InputSlot]
    outputs: List[Tuple[str, str]]  # (name, type) per output slot
    raw: Dict[str, Any]

    @property
    def widgets_values(self) -> Any:
        return self.raw.get("widgets_values")

    @property
    def named_values(self) -> Optional[Dict[str, Any]]:
        named = self.raw.get("widgets_values_named")
        return named if isinstance(named, dict) else None

    @property
    def properties(self) -> Dict[str, Any]:
        props = self.raw.get("properties")
        return props if isinstance(props, dict) else {}

    def describe(self) -> str:
        return f"node {self.id} ({self.type}{', ' + repr(self.title) if self.title else ''})"


@dataclass
class SubgraphSlot:
    """A definition's input or output as its instances show it."""

    name: str
    type: str
    link_ids: List[int]
    label: str = ""


@dataclass
class Graph:
    """The root graph or one subgraph definition."""

    nodes: Dict[str, UiNode]
    links: Dict[int, Link]
    id: str = ""  # a definition's id (instances' `type`); "" for the root
    name: str = ""
    inputs: List[SubgraphSlot] = field(default_factory=list)
    outputs: List[SubgraphSlot] = field(default_factory=list)


@dataclass
class Workflow:
    """A parsed UI workflow: the root graph and every subgraph definition by id."""

    root: Graph
    subgraphs: Dict[str, Graph]
    group_nodes: Dict[str, Any]


def parse(data: Dict[str, Any], where: str) -> Workflow:
    """Read a UI workflow; a node, link or definition of the wrong shape is refused by name."""
    definitions: Dict[str, Graph] = {}
    for raw in _all_definitions(data):
        graph = _graph(raw, where)
        definitions[graph.id] = graph
    groups = _mapping(_mapping(data.get("extra")).get("groupNodes"))
    return Workflow(_graph(data, where), definitions, groups)


def _all_definitions(data: Dict[str, Any]) -> Iterable[Dict[str, Any]]:
    """Every subgraph definition, also those nested in another definition's own `definitions`."""
    stack = [data]
    seen: List[int] = []
    while stack:
        holder = stack.pop()
        if id(holder) in seen:
            continue
        seen.append(id(holder))
        definitions = _mapping(holder.get("definitions"))
        for raw in definitions.get("subgraphs") or ():
            if isinstance(raw, dict) and raw.get("id") is not None:
                yield raw
                stack.append(raw)


def _mapping(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _graph(raw: Dict[str, Any], where: str) -> Graph:
    nodes: Dict[str, UiNode] = {}
    for item in raw.get("nodes") or ():
        if not isinstance(item, dict) or item.get("id") is None:
            raise WorkflowError(f"{where}: a node has no id; save the workflow again in ComfyUI")
        node = _node(item)
        nodes[node.id] = node
    links: Dict[int, Link] = {}
    for item in raw.get("links") or ():
        link = _link(item)
        if link is not None:
            links[link.id] = link
    return Graph(nodes=nodes, links=links, id=str(raw.get("id") or ""), name=str(raw.get("name") or ""),
                 inputs=[_slot(s) for s in raw.get("inputs") or () if isinstance(s, dict)],
                 outputs=[_slot(s) for s in raw.get("outputs") or () if isinstance(s, dict)])


def _node(item: Dict[str, Any]) -> UiNode:
    inputs = []
    for slot in item.get("inputs") or ():
        if not isinstance(slot, dict):
            continue
        widget = slot.get("widget")
        link = slot.get("link")
        inputs.append(InputSlot(name=str(slot.get("name", "")), type=str(slot.get("type", "*")),
                                link=link if isinstance(link, int) and not isinstance(link, bool) else None,
                                widget=str(widget.get("name")) if isinstance(widget, dict) and widget.get("name")
                                else None, label=str(slot.get("label") or "")))
    outputs = [(str(o.get("name", "")), str(o.get("type", "*"))) for o in item.get("outputs") or ()
               if isinstance(o, dict)]
    mode = item.get("mode", ALWAYS)
    return UiNode(id=str(item["id"]), type=str(item.get("type")), mode=mode if isinstance(mode, int) else ALWAYS,
                  title=str(item.get("title") or ""), inputs=inputs, outputs=outputs, raw=item)


def _link(item: Any) -> Optional[Link]:
    if isinstance(item, list) and len(item) >= 5:
        lid, origin, oslot, target, tslot = item[:5]
        kind = item[5] if len(item) > 5 else "*"
    elif isinstance(item, dict):
        lid, origin, oslot = item.get("id"), item.get("origin_id"), item.get("origin_slot")
        target, tslot, kind = item.get("target_id"), item.get("target_slot"), item.get("type", "*")
    else:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lid, oslot, tslot)):
        return None
    return Link(int(lid), str(origin), int(oslot), str(target), int(tslot), str(kind))


def _slot(raw: Dict[str, Any]) -> SubgraphSlot:
    ids = [i for i in raw.get("linkIds") or () if isinstance(i, int)]
    return SubgraphSlot(name=str(raw.get("name", "")), type=str(raw.get("type", "*")), link_ids=ids,
                        label=str(raw.get("label") or ""))
