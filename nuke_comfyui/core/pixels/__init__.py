"""Pixel decisions, pure: capabilities -> plan -> what was lost where.

Host (Nuke), the CLI, farm bundles and frame-batch chunks all ask the same questions, so the
answers live here, with no image library and no Nuke:

- `choices`: what was asked (`PlateEncoding` srgb/log/linear, `PlateFormat`, `ResultFormat`) and
  `PixelRequest`, the JSON-safe part of a `RenderRequest` (`RenderRequest.pixels`);
- `decide`: `decide(...)` fits the choices to the servers that may take the render (their
  `ImageCapabilities`, core/comfy/image_capabilities.py): the plate file type, the SaveImage
  rewrite, and the losses naming each server that forced a fallback;
- `savers`: the SaveImage -> SaveImageAdvanced rewrite and `result_colour`, what a result file's
  numbers mean, so its Read can invert the plate's transform;
- `server_fit`: the per-job safety net at dispatch (a server that was not known at submit);
- `colour_names`: the script's OCIO names for each purpose, from a colourspace knob's listing.
"""

from __future__ import annotations

from nuke_comfyui.core.pixels.choices import PixelRequest, PlateEncoding, PlateFormat, ResultFormat
from nuke_comfyui.core.pixels.decide import PixelDecision, ServerImages, decide
from nuke_comfyui.core.pixels.savers import ResultColour, SaveTarget, result_colour

__all__ = [
    "PixelDecision",
    "PixelRequest",
    "PlateEncoding",
    "PlateFormat",
    "ResultColour",
    "ResultFormat",
    "SaveTarget",
    "ServerImages",
    "decide",
    "result_colour",
]
