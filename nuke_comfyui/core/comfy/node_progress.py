"""`progress_state` messages: which nodes of a prompt run, with their step counts (ComfyUI 0.3.45+).

The server sends the whole state of every started node each time one starts, moves or ends:
`{"prompt_id", "nodes": {id: {"value", "max", "state", "node_id", "display_node_id", ...}}}`,
with `state` one of running / finished / error. Unlike `progress` (samplers and other nodes
with a progress bar only) it also says which node without a bar is running now, and gives the
id the artist sees (`display_node_id`: the subgraph node, not the node inside it).

A real server sends about ten per prompt, each naming every node so far, so these frames are
parsed only while someone looks (the stream drops them unparsed otherwise, events.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

_MAX_ID = 64


@dataclass(frozen=True)
class NodeState:
    node: str  # the executing node's id
    display_node: str  # the id shown to the artist
    state: str  # "running" | "finished" | "error" (as the server says; other words kept)
    value: float
    max: float


@dataclass(frozen=True)
class NodeProgress:
    """One `progress_state` message (an event of the stream)."""

    prompt_id: Optional[str]
    nodes: Tuple[NodeState, ...]

    def current(self) -> Optional[NodeState]:
        """The node to show: the running one with a step count, else the last one running."""
        running = [n for n in self.nodes if n.state == "running"]
        with_steps = [n for n in running if n.max > 1]
        if with_steps:
            return with_steps[-1]
        return running[-1] if running else None


def parse_progress_state(data: Dict[str, Any]) -> NodeProgress:
    """The `data` of a `progress_state` message; nodes of an odd shape are skipped."""
    raw = data.get("nodes")
    nodes = []
    if isinstance(raw, dict):
        for key, item in raw.items():
            if not isinstance(item, dict):
                continue
            node = _ident(item.get("node_id")) or _ident(key)
            if node is None:
                continue
            nodes.append(NodeState(node, _ident(item.get("display_node_id")) or node,
                                   str(item.get("state", ""))[:16], _number(item.get("value")),
                                   _number(item.get("max"))))
    prompt_id = data.get("prompt_id")
    return NodeProgress(prompt_id if isinstance(prompt_id, str) else None, tuple(nodes))


def _ident(value: Any) -> Optional[str]:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    return text if text and len(text) <= _MAX_ID and text.isprintable() else None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
