"""Saving results as float: SaveImage rewritten to SaveImageAdvanced, and what each result file holds.

A workflow written for any server saves with `SaveImage` (8-bit PNG). On servers that have
`SaveImageAdvanced` (ComfyUI 0.23+) that node is rewritten in the prompt, keeping its `images`
link and `filename_prefix`, to save 32-bit float EXR (or 16-bit PNG). The new node's `format` is a
dynamic combo; in API format its sub-inputs are flat keys (`"format.bit_depth"`), exactly as
ComfyUI's frontend queues them. `input_color_space` matches the plate encoding: an sRGB plate is
decoded back to linear Rec.709 on save, a log or linear plate is written through. A workflow's own
`SaveImageAdvanced` keeps its settings.

`result_colour` says what the numbers in a result file mean, so the Read of that file can invert
exactly what was done to the plate and the result lands in the script's working space.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, List, Optional

from nuke_comfyui.core.comfy.image_capabilities import EXR_FLOAT, PNG_16, SAVE_ADVANCED, ImageCapabilities
from nuke_comfyui.core.pixels.choices import PlateEncoding, ResultFormat

SAVE_IMAGE = "SaveImage"
#: file extensions whose pixels are written as the model produced them (no transfer applied on save)
ENCODED_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class SaveTarget:
    """What a rewritten SaveImage saves: SaveImageAdvanced's format and its two sub-inputs."""

    format: str  # "exr" | "png"
    bit_depth: str  # "32-bit float" | "16-bit"
    input_color_space: str  # "sRGB" | "linear" (png offers sRGB only: it never changes pixels)

    @property
    def label(self) -> str:
        return "32-bit float EXR" if self.format == "exr" else "16-bit PNG"

    @property
    def decodes_srgb(self) -> bool:
        """An EXR saved from sRGB-encoded pixels: ComfyUI applies the inverse EOTF, so the file holds
        linear Rec.709 (what the result Read must be told), not the plate's encoding."""
        return self.format == "exr" and self.input_color_space == "sRGB"

    def fits(self, caps: ImageCapabilities) -> bool:
        """The server offers this format, depth and colour space."""
        if self.format == "exr":
            return caps.save_exr and (not caps.exr_color_spaces or self.input_color_space in caps.exr_color_spaces)
        return caps.save_png16

    def inputs(self) -> Dict[str, str]:
        return {"format": self.format, "format.bit_depth": self.bit_depth,
                "format.input_color_space": self.input_color_space}


def save_target(results: ResultFormat, encoding: PlateEncoding, float_plate: bool,
                srgb_assumed: bool = False) -> Optional[SaveTarget]:
    """The SaveImage rewrite these choices ask for (None: keep the workflow's own saver).

    `srgb_assumed`: the script's config has no sRGB texture space and the plate went through an
    assumed one, so the EXR is written through (linear) and read back in that same assumed space.
    """
    if results is ResultFormat.EXR or (results is ResultFormat.AUTO and float_plate):
        return SaveTarget("exr", EXR_FLOAT, "linear" if srgb_assumed else encoding.save_color_space)
    if results is ResultFormat.PNG16:
        return SaveTarget("png", PNG_16, "sRGB")
    return None


def save_image_nodes(prompt: Dict[str, Any]) -> List[str]:
    """Ids of the prompt's SaveImage nodes (the ones a target rewrites)."""
    return [node_id for node_id, node in prompt.items()
            if isinstance(node, dict) and node.get("class_type") == SAVE_IMAGE]


def rewrite_savers(prompt: Dict[str, Any], target: SaveTarget) -> List[str]:
    """Turn every SaveImage of `prompt` into a SaveImageAdvanced saving `target`; returns their ids."""
    rewritten = save_image_nodes(prompt)
    for node_id in rewritten:
        node = prompt[node_id]
        old = node.get("inputs", {})
        node["class_type"] = SAVE_ADVANCED
        node["inputs"] = {"images": old.get("images"), "filename_prefix": old.get("filename_prefix", "ComfyUI"),
                          **target.inputs()}
    return rewritten


def exr_color_space(node: Optional[Dict[str, Any]], target: Optional[SaveTarget]) -> Optional[str]:
    """The `input_color_space` an output node's EXR files are saved with (None: unknown saver)."""
    if not isinstance(node, dict):
        return None
    inputs = node.get("inputs", {})
    if node.get("class_type") == SAVE_IMAGE and target is not None and target.format == "exr":
        return target.input_color_space
    if node.get("class_type") == SAVE_ADVANCED and inputs.get("format") == "exr":
        return str(inputs.get("format.input_color_space", "sRGB"))  # the node's default is sRGB
    return None


class ResultColour(str, Enum):
    """What the numbers of a result file mean (the Read of it undoes exactly this)."""

    SRGB = "srgb"  # sRGB-encoded Rec.709, as the plate went
    LINEAR_REC709 = "linear-rec709"  # SaveImageAdvanced decoded sRGB to linear on save
    LINEAR_REC2020 = "linear-rec2020"  # SaveImageAdvanced decoded HLG (its "HDR") to linear Rec.2020
    LOG = "log"  # the plate's log encoding
    DATA = "data"  # the working space, untouched


def plate_colour(encoding: PlateEncoding) -> ResultColour:
    return {PlateEncoding.SRGB: ResultColour.SRGB, PlateEncoding.LOG: ResultColour.LOG,
            PlateEncoding.LINEAR: ResultColour.DATA}[encoding]


def result_colour(encoding: PlateEncoding, extension: str, saved_color_space: Optional[str]) -> Optional[ResultColour]:
    """The meaning of a result file's pixels; None for files that are not images we read back.

    PNG and other integer images hold what the model produced, so they mean what the plate meant.
    An EXR from SaveImageAdvanced was decoded on save as its `input_color_space` says; `linear`
    (and an EXR from an unknown saver) writes the model's numbers through.
    """
    ext = extension.lower()
    if ext in ENCODED_EXTENSIONS:
        return plate_colour(encoding)
    if ext != ".exr":
        return None
    if saved_color_space == "sRGB":
        return ResultColour.LINEAR_REC709
    if saved_color_space == "HDR":
        return ResultColour.LINEAR_REC2020
    return plate_colour(encoding)
