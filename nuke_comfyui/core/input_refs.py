"""Why a `--set NODE.INPUT=VALUE` cannot set that input, when the node and input do exist.

Why: the inputs `--set` offers are the literal values of a workflow; an input fed by another
node's output (a link) or a loader's `image` (fed with `--image`) is not among them, so the
listing-based lookup said "no node '2' in the workflow" about a node that is plainly there.
This looks at the workflow itself and says what the input really is and what to do instead.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.image_inputs import LOADER_CLASSES


def unsettable_reason(workflow: Dict[str, Dict[str, Any]], assignment: str) -> Optional[str]:
    """A message when `assignment` (`NODE.INPUT=VALUE`) names an existing input that is not a value."""
    reference = assignment.partition("=")[0].strip()
    node_ref, dot, name = reference.rpartition(".")
    if not dot or not node_ref or not name:
        return None
    for node_id in _nodes(workflow, node_ref):
        node = workflow[node_id]
        value = node.get("inputs", {}).get(name)
        where = f"input {node_id}.{name} ({node['class_type']})"
        if wf.is_link(value):
            return (f"--set {reference}: {where} is connected to node {value[0]}'s output, not a value you can "
                    f"set; set the value on node {value[0]}, or disconnect the input in ComfyUI")
        if name == "image" and node["class_type"] in LOADER_CLASSES:
            return f"--set {reference}: {where} is an image input; give it a file with --image {node_id}=FILE"
    return None


def _nodes(workflow: Dict[str, Dict[str, Any]], node_ref: str) -> List[str]:
    if node_ref in workflow:
        return [node_ref]
    wanted = node_ref.strip().lower()
    return [i for i, n in workflow.items() if wanted in (wf.title(n).lower(), str(n["class_type"]).lower())]
