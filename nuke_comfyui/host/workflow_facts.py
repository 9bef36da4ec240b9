"""What host needs to know about a node's workflow file: output titles and whether it reads a mask.

The Read nodes of a workflow with several outputs are named after each output node's title, and
the plate is written with alpha only when the workflow uses the input loader's MASK output
(LoadImage output 1), since ComfyUI takes that mask from the image's alpha channel.
A workflow that cannot be read gives no facts here; core reports the problem when it loads it.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

MASK_OUTPUT = 1


def _load(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def output_titles(path: str) -> Dict[str, str]:
    """Node id -> title (`_meta.title`, else class type) for every node of the workflow."""
    titles = {}
    for node_id, node in _load(path).items():
        if isinstance(node, dict):
            meta = node.get("_meta")
            title = meta.get("title") if isinstance(meta, dict) else None
            titles[str(node_id)] = str(title or node.get("class_type", node_id))
    return titles


def preview_nodes(path: str) -> List[str]:
    """Ids of output nodes that only preview (PreviewImage: ComfyUI's temp folder, not kept)."""
    return [str(i) for i, node in _load(path).items()
            if isinstance(node, dict) and str(node.get("class_type", "")).startswith("Preview")]


def reads_input_mask(path: str) -> bool:
    """True when some node uses output 1 (MASK) of the workflow's input loader."""
    from nuke_comfyui.core.errors import NukeComfyError
    from nuke_comfyui.core.workflow import find_input_node

    workflow = _load(path)
    try:
        loader = find_input_node(workflow)
    except (NukeComfyError, KeyError, TypeError):
        return False
    for node in workflow.values():
        for value in (node.get("inputs") or {}).values() if isinstance(node, dict) else ():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) == loader and value[1] == MASK_OUTPUT:
                return True
    return False
