"""The batch in: a chunk's frames reach the workflow's input node as one batch, in frame order.

Convention (docs/TEMPORAL.md): in a frame-batch render (chunk size above 1) the workflow's Nuke
input node (titled "Nuke Input", else its only LoadImage) is the batch input, and so is every
further image loader fed a sequence (`--image NODE=plate.####.png`). The workflow is written for
one image, as exported from ComfyUI; each job's prompt is rewritten so that:

- the loader is repeated once per frame of the chunk (each reads its frame, staged on the server
  by upload or shared storage exactly like a single-frame job's input);
- a batching node joins them in frame order, and every link that read the loader's IMAGE output
  now reads the batch (MASK links read a mask batch).

Which batching node, per server, by what it has (checked on a real ComfyUI 0.33, see
docs/TEMPORAL.md): `BatchImagesNode` (core since 0.7.0; up to 50 inputs named `images.image0`,
`images.image1`, ..., joined in name order; larger chunks use a tree of them), else the older
`ImageBatch` (two inputs, chained). Both keep each frame's size and values when the frames share
one size, as a plate's frames do. A mask batch needs `BatchMasksNode` (0.7.0+). A server with
none of these cannot take a frame-batch job, and the placement says so by name.

Rejected on purpose: `LoadImageDataSetFromFolder` lists its folder with `os.listdir` (no order),
converts every frame to 8-bit RGB and returns a list, not a batch; a lossless video through
`LoadVideo` -> `GetVideoComponents` would need a video encoder in Nuke's Python and cannot carry
an EXR plate's float values, which a per-frame LoadImage keeps (core LoadImage reads EXR as float
since 0.21).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, List, Sequence, Tuple

from nuke_comfyui.core.errors import WorkflowError

BATCH_IMAGES = "BatchImagesNode"
IMAGE_BATCH = "ImageBatch"
BATCH_MASKS = "BatchMasksNode"
#: the most inputs one BatchImagesNode / BatchMasksNode takes (ComfyUI's Autogrow max=50)
AUTOGROW_MAX = 50
IMAGE_SLOT, MASK_SLOT = 0, 1
#: loaders whose outputs are (IMAGE, MASK); LoadImageMask has only (MASK,)
_IMAGE_AND_MASK = ("LoadImage", "LoadImageOutput")

Workflow = Dict[str, Dict[str, Any]]
HasClass = Callable[[str], bool]


@dataclass(frozen=True)
class BatchInput:
    """One loader node that receives a chunk's frames, and which of its outputs the workflow reads."""

    node: str
    class_type: str
    image_used: bool
    mask_used: bool

    def requirements(self) -> Tuple[FrozenSet[str], ...]:
        """Class alternatives a server needs for this input: at least one class of each set."""
        needs: List[FrozenSet[str]] = []
        if self.image_used:
            needs.append(frozenset({BATCH_IMAGES, IMAGE_BATCH}))
        if self.mask_used:
            needs.append(frozenset({BATCH_MASKS}))
        return tuple(needs)


def batch_input(workflow: Workflow, node_id: str) -> BatchInput:
    """Describe loader `node_id` as a batch input (which outputs are linked)."""
    node = workflow[node_id]
    class_type = str(node["class_type"])
    slots = _linked_slots(workflow, node_id)
    if class_type in _IMAGE_AND_MASK:
        return BatchInput(node_id, class_type, IMAGE_SLOT in slots, MASK_SLOT in slots)
    if class_type == "LoadImageMask":
        return BatchInput(node_id, class_type, False, IMAGE_SLOT in slots)
    raise WorkflowError(f"node {node_id} ({class_type}) cannot be a batch input; frame batches feed LoadImage, "
                        "LoadImageOutput or LoadImageMask nodes")


def requirements(inputs: Sequence[BatchInput]) -> Tuple[FrozenSet[str], ...]:
    """Every class alternative the batch inputs need, without repeats."""
    seen: List[FrozenSet[str]] = []
    for item in inputs:
        for need in item.requirements():
            if need not in seen:
                seen.append(need)
    return tuple(seen)


def expand(prompt: Workflow, item: BatchInput, values: Sequence[str], has_class: HasClass) -> None:
    """Rewrite `prompt` in place so loader `item.node` feeds a batch of `values` (one per frame, in order).

    `values` are the loader's `image` values as the server names the staged frames. One value
    leaves the prompt a plain single-image prompt.
    """
    if not values:
        raise WorkflowError(f"batch input {item.node} got no frames")
    original = prompt[item.node]
    original.setdefault("inputs", {})["image"] = values[0]
    if len(values) == 1:
        return
    loaders = [item.node]
    for k, value in enumerate(values[1:], start=1):
        copy_id = _fresh_id(prompt, f"{item.node}_nkc_frame{k}")
        inputs = dict(original.get("inputs", {}))
        inputs["image"] = value
        prompt[copy_id] = {"class_type": original["class_type"], "inputs": inputs,
                           "_meta": {"title": f"frame {k} of the chunk (nuke-comfyui)"}}
        loaders.append(copy_id)
    image_slot = None if item.class_type == "LoadImageMask" else IMAGE_SLOT
    mask_slot = IMAGE_SLOT if item.class_type == "LoadImageMask" else MASK_SLOT
    rewired: Dict[int, List[Any]] = {}
    if item.image_used and image_slot is not None:
        rewired[image_slot] = _join(prompt, item.node, [[n, image_slot] for n in loaders], "image", has_class)
    if item.mask_used:
        rewired[mask_slot] = _join(prompt, item.node, [[n, mask_slot] for n in loaders], "mask", has_class)
    created = set(loaders[1:]) | {link[0] for link in rewired.values()} | _joiners(prompt, item.node)
    for node_id, node in prompt.items():
        if node_id in created:
            continue
        for name, value in list(node.get("inputs", {}).items()):
            if _links_to(value, item.node) and value[1] in rewired:
                node["inputs"][name] = list(rewired[value[1]])


def _join(prompt: Workflow, owner: str, links: List[List[Any]], kind: str, has_class: HasClass) -> List[Any]:
    """Nodes joining `links` in order into one batch; returns the link to the batch."""
    if kind == "mask":
        if not has_class(BATCH_MASKS):
            raise WorkflowError(f"this server has no {BATCH_MASKS} to join the masks of a chunk (ComfyUI 0.7.0+)")
        return _autogrow_tree(prompt, owner, links, BATCH_MASKS, "masks.mask")
    if has_class(BATCH_IMAGES):
        return _autogrow_tree(prompt, owner, links, BATCH_IMAGES, "images.image")
    if has_class(IMAGE_BATCH):
        current = links[0]
        for k, link in enumerate(links[1:], start=1):
            joiner = _fresh_id(prompt, f"{owner}_nkc_batch{k}")
            prompt[joiner] = {"class_type": IMAGE_BATCH, "inputs": {"image1": current, "image2": link},
                              "_meta": {"title": "chunk batch (nuke-comfyui)"}}
            current = [joiner, 0]
        return current
    raise WorkflowError(f"this server has neither {BATCH_IMAGES} nor {IMAGE_BATCH} to join a chunk's frames")


def _autogrow_tree(prompt: Workflow, owner: str, links: List[List[Any]], class_type: str, prefix: str) -> List[Any]:
    level = 0
    while len(links) > 1:
        joined: List[List[Any]] = []
        for start in range(0, len(links), AUTOGROW_MAX):
            group = links[start:start + AUTOGROW_MAX]
            if len(group) == 1:
                joined.append(group[0])
                continue
            joiner = _fresh_id(prompt, f"{owner}_nkc_batch{level}_{start // AUTOGROW_MAX}")
            prompt[joiner] = {"class_type": class_type,
                              "inputs": {f"{prefix}{k}": link for k, link in enumerate(group)},
                              "_meta": {"title": "chunk batch (nuke-comfyui)"}}
            joined.append([joiner, 0])
        links = joined
        level += 1
    return links[0]


def _joiners(prompt: Workflow, owner: str) -> set:
    return {node_id for node_id in prompt if node_id.startswith(f"{owner}_nkc_batch")}


def _fresh_id(prompt: Workflow, wanted: str) -> str:
    candidate, n = wanted, 1
    while candidate in prompt:
        n += 1
        candidate = f"{wanted}_{n}"
    return candidate


def _links_to(value: Any, node_id: str) -> bool:
    return (isinstance(value, list) and len(value) == 2 and str(value[0]) == node_id
            and isinstance(value[1], int) and not isinstance(value[1], bool))


def _linked_slots(workflow: Workflow, node_id: str) -> set:
    return {value[1] for node in workflow.values() for value in node.get("inputs", {}).values()
            if _links_to(value, node_id)}
