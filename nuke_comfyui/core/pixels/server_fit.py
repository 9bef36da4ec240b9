"""One job's prompt fitted to the server that takes it, at dispatch.

The plan decided the pixels for the servers known at submit. A server may differ when its job is
sent: one that was offline then, or one downgraded mid-render. This is the per-job safety net:

- the plate is float and this server cannot load EXR: the job cannot run here, so
  `PlateNotLoadable` (a `ComfyError`) is raised before anything is sent; the scheduler requeues the
  job elsewhere and leaves this server out for it, and the message names frame, server and fix;
- SaveImage should become a float saver and this server lacks it: this one job keeps the
  workflow's saver (8-bit PNG) and the returned note says where ("frame 1012 on gpu3 (ComfyUI
  0.8.2): 8-bit PNG result"), so the loss is reported, never silent.

A server whose capabilities are unknown gets the plan as it is.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from nuke_comfyui.core.comfy.image_capabilities import ImageCapabilities
from nuke_comfyui.core.errors import ComfyError
from nuke_comfyui.core.pixels.choices import PixelRequest, ResultFormat
from nuke_comfyui.core.pixels.decide import EXR_LOAD_RELEASE, ServerImages
from nuke_comfyui.core.pixels.savers import SaveTarget, rewrite_savers, save_image_nodes, save_target


class PlateNotLoadable(ComfyError):
    """The job's plate is EXR and this server's LoadImage cannot read EXR (ComfyUI before 0.21)."""


def planned_target(pixels: PixelRequest) -> Optional[SaveTarget]:
    """The SaveImage rewrite the decided request carries (None: keep the workflow's saver)."""
    if pixels.result_format is ResultFormat.AUTO:  # never decided (an old journaled request)
        return None
    return save_target(pixels.result_format, pixels.plate_encoding, pixels.plate_format.is_float,
                       bool(pixels.srgb_assumed))


def check_plate(pixels: PixelRequest, server: str, caps: Optional[ImageCapabilities], job: str = "job",
                width: Optional[int] = None) -> None:
    """Raise PlateNotLoadable when the plate is float and this server is known not to load it
    (no EXR loading at all, or not at this width)."""
    if caps is None or not caps.known or not pixels.plate_format.is_float:
        return
    where = ServerImages(server, caps).where
    if not caps.exr_load:
        raise PlateNotLoadable(
            f"{job}: {where} cannot load EXR plates (ComfyUI {EXR_LOAD_RELEASE}+ can); the job goes to another "
            "server. Upgrade ComfyUI there, or leave it out of this render")
    if width is not None and not caps.loads_float_width(width):
        raise PlateNotLoadable(
            f"{job}: {where} cannot load a float plate {width} px wide (the width must be a multiple of "
            f"{caps.float_width_multiple} since ComfyUI 0.25); the job goes to another server. Reformat the "
            "plate, or send it as 8-bit PNG")


def fit_to_server(prompt: Dict[str, Any], pixels: PixelRequest, server: str, caps: Optional[ImageCapabilities],
                  job: str = "job") -> List[str]:
    """Check the plate (check_plate) and rewrite `prompt`'s savers for this server.

    Returns notes for what this job lost on this server (empty when it got the plan).
    """
    check_plate(pixels, server, caps, job, pixels.width)
    target = planned_target(pixels)
    if target is None or not save_image_nodes(prompt):
        return []
    if caps is not None and caps.known and not target.fits(caps):
        where = ServerImages(server, caps).where
        return [f"{job} on {where}: 8-bit PNG result, not {target.label} (no SaveImageAdvanced there)"]
    rewrite_savers(prompt, target)
    return []
