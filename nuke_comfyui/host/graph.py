"""Find Comfy nodes by full name and create nodes beside them, whatever group Nuke is "in".

A button on a gizmo runs with that gizmo as Nuke's current group, so a bare `nuke.toNode(name)`
looks inside the gizmo and `nuke.nodes.Read()` creates the Read inside it (where it is not even
saved with the script). Everything host does therefore names nodes by `fullName()`, resolves
them from the root, and creates helper and result nodes inside the Comfy node's own parent
(the root, or the user Group holding it).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, List, Optional

import nuke


def find_node(full_name: str) -> Optional[nuke.Node]:
    """The node called full_name ('ComfyRender1', 'Group1.ComfyRender1'), resolved from the root."""
    with nuke.root():
        return nuke.toNode(full_name)


def parent_of(node: nuke.Node) -> nuke.Group:
    """The group holding node (root for a top-level node)."""
    try:
        return node.parent()
    except (AttributeError, ValueError):
        return nuke.root()


@contextmanager
def beside(node: nuke.Node) -> Iterator[nuke.Group]:
    """Make node's own group current, so nodes created and looked up here are its siblings."""
    group = parent_of(node)
    with group:
        yield group


def sibling(node: nuke.Node, name: str) -> Optional[nuke.Node]:
    """The node called name in node's group, or None."""
    with beside(node):
        return nuke.toNode(name)


def all_nodes(node_class: str) -> List[nuke.Node]:
    """Every node of node_class in the script, inside groups too."""
    with nuke.root():
        return nuke.allNodes(node_class, nuke.root(), recurseGroups=True)

