"""Render's image inputs: every connected arrow staged per frame for its loader, the rest checked.

Each connected input arrow (host/image_arrows) is written to disk, or an upstream Read reused when
host/inputs allows it, and goes into the request keyed by its loader's node id
(`RenderRequest.images`). The workflow's main loader on input 0 keeps using
`RenderRequest.input_pattern`, which core's request_plan patches into the loader core itself finds
(the node titled "Nuke Input", else the only LoadImage) and which farm bundles carry as their
InputPattern parameter; a one-loader workflow renders exactly as before.

Required or optional, for an arrow left unconnected: the sidecar decides where it says so
(`"required": true/false`, core/workflow_sidecar). Where it does not, the input is optional only
when every server that answered `/object_info` lists the workflow's own file in that loader's
`image` choices (ComfyUI lists its input folder there): then the workflow's file is used, as the
workflow's author meant. Otherwise leaving it unconnected could only fail on the server
("Invalid image file") after the frames were queued, so Render refuses it up front, naming the
loader and the fix. With no server answering yet, every unconnected loader counts as required.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import nuke

from nuke_comfyui.core.image_inputs import file_on_servers
from nuke_comfyui.core.workflow_sidecar import ImageSlot
from nuke_comfyui.host import image_arrows, workflow_facts
from nuke_comfyui.host.inputs import SharedFolder, input_folder, prepare_input, safe_node_name
from nuke_comfyui.host.knobs import FrameRange, NodeSetupError
from nuke_comfyui.host.plate_chain import PlateSettings

#: how long Render waits for the farm's first `/object_info` answers when it needs them
OBJECT_INFO_WAIT_S = 5.0


@dataclass
class StagedImages:
    """What the request gets: the main loader's pattern and the other loaders' patterns."""

    input_pattern: Optional[str] = None
    images: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    clipped: int = 0  # plate pixels that left [0, 1] in the encoding (host/plate_chain.py)

    @property
    def any(self) -> bool:
        return bool(self.input_pattern or self.images)


def object_infos(pool: Any, wait: float = OBJECT_INFO_WAIT_S) -> Callable[[], Dict[str, Dict[str, Any]]]:
    """A lazy `pool.object_infos()` that waits (bounded) for the first probes only when first asked."""
    cache: List[Dict[str, Dict[str, Any]]] = []

    def get() -> Dict[str, Dict[str, Any]]:
        if not cache:
            deadline = time.monotonic() + wait
            infos = pool.object_infos()
            enabled = any(getattr(s, "enabled", True) for s in pool.servers())
            while not infos and enabled and time.monotonic() < deadline:
                time.sleep(0.05)
                infos = pool.object_infos()
            cache.append(infos)
        return cache[0]

    return get


def is_required(slot: ImageSlot, infos: Callable[[], Dict[str, Dict[str, Any]]]) -> bool:
    """The sidecar's word, else: required unless every answering server has the workflow's file."""
    if slot.required is not None:
        return slot.required
    return not file_on_servers(slot.image, infos())


def _missing(node: nuke.Node, slot: ImageSlot, index: Optional[int]) -> NodeSetupError:
    image = slot.image
    where = (f"connect an image to its '{slot.label}' input arrow (input {index + 1})" if index is not None
             else f"the node has only {image_arrows.MAX_ARROWS} input arrows, so put the file in every "
                  "server's input folder")
    return NodeSetupError(
        f"{node.fullName()}: image input '{slot.label}' ({image.class_type} node {image.node}, "
        f"title '{image.title}') is required and not connected, and the workflow's file "
        f"{image.value or '(none)'!r} is not on the servers; {where}, or mark it "
        "\"required\": false in the workflow's .nkc.json sidecar to use the workflow's file")


def fit_arrows(node: nuke.Node, infos: Callable[[], Dict[str, Dict[str, Any]]]) -> image_arrows.Arrows:
    """Sync the node's arrows to its workflow first: "input range" reads input 1, and a workflow
    changed without a sync (no GUI hooks) must not send one loader's image to another."""
    path = str(node[image_arrows.WORKFLOW].value()).strip()
    return image_arrows.sync(node, _merged(infos) if path and _is_ui(path) else None)


def stage_images(node: nuke.Node, arrows: image_arrows.Arrows, infos: Callable[[], Dict[str, Dict[str, Any]]],
                 span: FrameRange, frame_list: Sequence[int], *,
                 shared: Sequence[SharedFolder], upload: bool, output_dir: str,
                 settings: Optional[PlateSettings] = None) -> StagedImages:
    """Check the required arrows, then write (or reuse) each connected input's frames for its loader."""
    staged = StagedImages(notes=list(arrows.notes))
    if not arrows.readable:
        return staged  # core names the workflow's problem when it plans the request
    path = str(node[image_arrows.WORKFLOW].value()).strip()
    workflow = workflow_facts.load(path, _merged(infos) if _is_ui(path) else None)
    main = workflow_facts.main_loader(workflow) if workflow is not None else None
    for index, slot in enumerate(arrows.slots):
        if node.input(index) is None and is_required(slot, infos):
            raise _missing(node, slot, index)
    for slot in arrows.beyond:
        if is_required(slot, infos):
            raise _missing(node, slot, None)
    for index, slot in enumerate(arrows.slots):
        _check_alpha(node, slot, index)
    folder: Optional[str] = None
    for index, slot in enumerate(arrows.slots):
        if node.input(index) is None:
            continue
        folder = folder or input_folder(safe_node_name(node), [] if upload else shared, output_dir)
        plan = prepare_input(node, span, frame_list, shared=shared, upload=upload, output_dir=output_dir,
                             index=index, with_alpha=slot.image.uses_alpha, invert_alpha=slot.image.invert_alpha,
                             folder=folder, stem="" if index == 0 else slot.label, settings=settings)
        if plan is None:
            continue
        staged.clipped += plan.clipped
        if index == 0 and slot.image.node == main and slot.image.class_type == "LoadImage":
            staged.input_pattern = plan.pattern
        else:
            staged.images[slot.image.node] = plan.pattern
    return staged


def _check_alpha(node: nuke.Node, slot: ImageSlot, index: int) -> None:
    """A loader whose mask is used needs an alpha on its arrow: without one Nuke writes none and
    ComfyUI would get an empty mask, silently. Said before any frame is written."""
    upstream = node.input(index)
    if upstream is None or not slot.image.uses_alpha or "rgba.alpha" in upstream.channels():
        return
    raise NodeSetupError(
        f"{node.fullName()}: input '{slot.label}' (input {index + 1}) feeds the mask of {slot.image.class_type} "
        f"node {slot.image.node}, but {upstream.name()} has no alpha channel; give it an alpha (a Shuffle or "
        "Copy into rgba.alpha, or the Read's auto alpha), or connect an image with alpha")


def _merged(infos: Callable[[], Dict[str, Dict[str, Any]]]) -> Dict[str, Any]:
    from nuke_comfyui.core.object_info import merge

    return merge(infos())


def _is_ui(path: str) -> bool:
    from nuke_comfyui.core.errors import NukeComfyError
    from nuke_comfyui.core.ui_workflow import is_ui_workflow
    from nuke_comfyui.core.workflow import read_workflow_data

    try:
        return is_ui_workflow(read_workflow_data(path))
    except NukeComfyError:
        return False
