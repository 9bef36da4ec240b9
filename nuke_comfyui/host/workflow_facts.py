"""What host needs to know about a node's workflow file: output titles, previews, image inputs.

The Read nodes of a workflow with several outputs are named after each output node's title; the
node's input arrows are its image-loading nodes (core/image_inputs: LoadImage, LoadImageMask,
LoadImageOutput, with whether their alpha becomes a mask). The file is read the way core reads it
for a render (core/workflow.load_workflow), so a workflow saved with ComfyUI's normal Save (UI
format) is converted with the farm's cached `/object_info`, exactly as the scheduler will. A
workflow that cannot be read (missing, not JSON, UI format with no `/object_info` yet, a node no
server has) gives no facts here; core reports the problem, with its fix, when it is rendered.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.image_inputs import image_inputs
from nuke_comfyui.core.workflow import Workflow, find_input_node, load_workflow, title
from nuke_comfyui.core.workflow_sidecar import ImageSlot, Sidecar, image_slots, load_sidecar

ObjectInfo = Optional[Dict[str, Any]]


def load(path: str, object_info: ObjectInfo = None) -> Optional[Workflow]:
    """The workflow in API format (UI format converted with object_info), or None when unreadable."""
    if not path:
        return None
    try:
        return load_workflow(path, object_info or None)
    except (NukeComfyError, OSError, ValueError, KeyError, TypeError):
        return None


def problem(path: str, object_info: ObjectInfo = None) -> Optional[str]:
    """Why the workflow cannot be read (core's message, with its fix), or None when it can."""
    try:
        load_workflow(path, object_info or None)
    except NukeComfyError as exc:
        return str(exc)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"workflow {path} cannot be read: {exc}"
    return None


def output_titles(path: str, object_info: ObjectInfo = None) -> Dict[str, str]:
    """Node id -> title (`_meta.title`, else class type) for every node of the workflow."""
    workflow = load(path, object_info) or {}
    return {str(i): title(node) or str(node.get("class_type", i)) for i, node in workflow.items()}


def preview_nodes(path: str, object_info: ObjectInfo = None) -> List[str]:
    """Ids of output nodes that only preview (PreviewImage: ComfyUI's temp folder, not kept)."""
    workflow = load(path, object_info) or {}
    return [str(i) for i, node in workflow.items() if str(node.get("class_type", "")).startswith("Preview")]


def image_slots_of(path: str, object_info: ObjectInfo = None) -> Optional[Tuple[List[ImageSlot], List[str]]]:
    """(the image inputs in arrow order, sidecar problems), or None when the workflow is unreadable.

    Arrow order is the workflow's, with its main loader first (core's find_input_node: the node
    titled "Nuke Input", else the only LoadImage): input 0 is the one Nuke passes through when
    the node is disabled and the one whose frame range "input range" means.
    """
    workflow = load(path, object_info)
    if workflow is None:
        return None
    problems: List[str] = []
    try:
        sidecar = load_sidecar(path)
    except NukeComfyError as exc:
        sidecar, problems = Sidecar(), [str(exc)]
    slots, unknown = image_slots(sidecar, image_inputs(workflow))
    main = main_loader(workflow)
    slots.sort(key=lambda slot: slot.image.node != main)  # stable: the others keep workflow order
    return slots, problems + unknown


def main_loader(workflow: Workflow) -> Optional[str]:
    """The loader core feeds with RenderRequest.input_pattern, or None (several untitled LoadImage, none)."""
    try:
        return find_input_node(workflow)
    except NukeComfyError:
        return None
