"""The image inputs of a workflow: every node that loads an image file is a named input.

The Nuke node gets one input arrow per loader (labelled by the node's title: plate, mask,
depth ...); the CLI takes `--image NODE=PATTERN`. Loaders are ComfyUI's stock LoadImage,
LoadImageMask and LoadImageOutput, each of which reads its `image` input as a file name.

Masks and polarity. ComfyUI's LoadImage returns MASK = 1 - alpha (its mask editor paints
transparency), and LoadImageMask on the alpha channel does the same; on red/green/blue it takes
the channel as it is. A Nuke matte means "1 = here", so an input whose alpha becomes a mask is
written with alpha inverted (`invert_alpha`), and the mask reaching ComfyUI equals Nuke's alpha.
An input whose alpha is not used is written without alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping

LOADER_CLASSES = ("LoadImage", "LoadImageMask", "LoadImageOutput")
#: LoadImageOutput reads from output/ unless the name says otherwise: staged files live in input/
ANNOTATION = {"LoadImageOutput": " [input]"}


@dataclass(frozen=True)
class ImageInput:
    """One image-loading node and how its file must be written."""

    node: str
    title: str  # _meta.title, else the class type
    class_type: str
    value: str  # the file the workflow names (kept when the input is optional and left unconnected)
    uses_alpha: bool  # its MASK output (or the alpha channel of a LoadImageMask) is used
    invert_alpha: bool  # write 1 - alpha, so ComfyUI's mask equals Nuke's alpha

    @property
    def is_mask(self) -> bool:
        return self.uses_alpha


def _linked_outputs(workflow: Dict[str, Dict[str, Any]], node_id: str) -> List[int]:
    slots = []
    for node in workflow.values():
        for value in node.get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) == node_id and isinstance(value[1], int):
                slots.append(value[1])
    return slots


def image_inputs(workflow: Dict[str, Dict[str, Any]]) -> List[ImageInput]:
    """Every loader node in workflow order, with the alpha handling its outputs need."""
    found = []
    for node_id, node in workflow.items():
        class_type = node["class_type"]
        if class_type not in LOADER_CLASSES:
            continue
        inputs = node.get("inputs", {})
        if class_type == "LoadImageMask":
            uses_alpha = str(inputs.get("channel", "alpha")) == "alpha"
        else:
            uses_alpha = 1 in _linked_outputs(workflow, node_id)  # output 1 is MASK
        meta = node.get("_meta")
        title = str(meta.get("title", "")) if isinstance(meta, dict) else ""
        found.append(ImageInput(node=node_id, title=title or class_type, class_type=class_type,
                                value=str(inputs.get("image", "")), uses_alpha=uses_alpha,
                                invert_alpha=uses_alpha))
    return found


def image_value(class_type: str, staged: str) -> str:
    """The `image` value a loader of `class_type` needs for a file staged in the server's input/."""
    return staged + ANNOTATION.get(class_type, "")


def file_on_servers(image: ImageInput, object_infos: Mapping[str, Dict[str, Any]]) -> bool:
    """True when every server that answered `/object_info` lists the workflow's own file.

    ComfyUI's loaders declare `image` as a combo of the files in the server's input folder (output
    folder for LoadImageOutput), so this is what the server would load if the input stays
    unconnected. No answers, or a server without the class or the file: False.
    """
    from nuke_comfyui.core.object_info import input_spec

    if not image.value or not object_infos:
        return False
    for info in object_infos.values():
        spec = input_spec(info, image.class_type, "image")
        if spec is None or image.value not in {str(option) for option in spec.options}:
            return False
    return True
