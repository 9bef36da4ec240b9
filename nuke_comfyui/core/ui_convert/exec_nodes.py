"""The nodes of a flattened graph and what tracing an input finds: plain data, shared by the tracing and the helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from nuke_comfyui.core.ui_convert.ui_graph import Graph, InputSlot, UiNode


@dataclass
class ExecNode:
    """One node at one place in the flattened graph."""

    id: str  # execution id: the instance path and the node id joined by ":"
    node: UiNode
    graph: Graph  # the graph (root or definition) that holds the node
    path: Tuple[str, ...]  # ids of the enclosing instances, outermost first
    titles: Tuple[str, ...]  # their titles, for readable labels
    parent: Optional[ExecNode]  # the enclosing instance
    inputs: List[InputSlot]  # the live input slots (an instance's come from its definition)
    definition: Optional[Graph] = None  # set for a subgraph instance


@dataclass(frozen=True)
class LinkTo:
    """An input fed by another node's output."""

    node: str
    slot: int


@dataclass(frozen=True)
class Literal:
    """An input given a value by the subgraph instance it lies in (a promoted widget)."""

    value: object
