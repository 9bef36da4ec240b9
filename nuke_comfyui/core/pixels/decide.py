"""Choices fitted to the servers: which plate file and which result files, and what was lost where.

One render writes one plate, and its results must read as one sequence, so both are decided once
for the servers that may take the render: the plate goes as float EXR only when every one of them
loads EXR, and SaveImage becomes a float saver only when every one of them has it. A server that
forces the 8-bit path is named with its release in the losses ("gpu3 (ComfyUI 0.8.2): ..."), with
the fix (leave it out with the server subset, or upgrade it). Servers not answering yet are not
counted (when none answers, the 8-bit path is taken and said); if one of them comes up without a
capability the plan needs, `server_fit` handles that one job (its plate cannot load there: the
job goes elsewhere; its saver is missing: that frame falls back to the workflow's saver, and says
so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from nuke_comfyui.core.comfy.image_capabilities import (
    PYAV_IMAGE_LOAD_SINCE,
    SAVE_IMAGE_ADVANCED_SINCE,
    ImageCapabilities,
)
from nuke_comfyui.core.pixels.choices import PlateEncoding, PlateFormat, ResultFormat
from nuke_comfyui.core.pixels.savers import SaveTarget, save_target

EXR_LOAD_RELEASE = ".".join(map(str, PYAV_IMAGE_LOAD_SINCE[:2]))
SAVE_ADVANCED_RELEASE = ".".join(map(str, SAVE_IMAGE_ADVANCED_SINCE[:2]))
NOBODY_YET = "no server has said what it can load and save yet, so "


@dataclass(frozen=True)
class ServerImages:
    """One server that may take the render, with what it can do with images."""

    name: str
    caps: ImageCapabilities

    @property
    def where(self) -> str:
        """'gpu3 (ComfyUI 0.8.2)', or just the name when the release is unknown."""
        return f"{self.name} (ComfyUI {self.caps.version})" if self.caps.version else self.name


@dataclass(frozen=True)
class PixelDecision:
    """What the plate is written as, what SaveImage becomes (None: untouched), and what was lost."""

    plate: PlateFormat
    save: Optional[SaveTarget]
    losses: Tuple[str, ...] = ()
    left_out: Tuple[str, ...] = ()  # servers that cannot load the given plate file at all


def _known(servers: Sequence[ServerImages]) -> List[ServerImages]:
    return [s for s in servers if s.caps.known]


def _unaligned(servers: Sequence[ServerImages], width: Optional[int]) -> List[ServerImages]:
    """Servers that load EXR but not at this width (0.25+: a width not a multiple of 32 fails)."""
    if width is None:
        return []
    return [s for s in _known(servers) if s.caps.exr_load and not s.caps.loads_float_width(width)]


def _width_note(servers: Sequence[ServerImages], width: int, multiple: int) -> str:
    names = ", ".join(s.where for s in servers)
    fitting = -(-width // multiple) * multiple
    return (f"{names}: cannot load a float image {width} px wide (since ComfyUI 0.25 a width that is not a "
            f"multiple of {multiple} fails to load), so the plate goes as 8-bit PNG; reformat to {fitting} px "
            "wide to send float")


def choose_plate(wanted: PlateFormat, servers: Sequence[ServerImages],
                 width: Optional[int] = None) -> Tuple[PlateFormat, List[str]]:
    """EXR as wanted when every known server loads it at this width, else 8-bit PNG (with the servers to blame)."""
    if not wanted.is_float or wanted is PlateFormat.EXR_FILE:
        return wanted, []
    if not _known(servers):
        return PlateFormat.PNG8, [NOBODY_YET + "the plate goes as 8-bit PNG; render again once they answer "
                                               "to send float"]
    old = [s for s in _known(servers) if not s.caps.exr_load]
    if old:
        names = ", ".join(s.where for s in old)
        return PlateFormat.PNG8, [
            f"{names}: cannot load EXR (ComfyUI {EXR_LOAD_RELEASE}+ can), so the plate goes as 8-bit PNG to "
            "every server (values above 1 clip, gradients band); leave "
            f"{'it' if len(old) == 1 else 'them'} out with 'only servers' to send float"]
    unaligned = _unaligned(servers, width)
    if unaligned and width is not None:
        return PlateFormat.PNG8, [_width_note(unaligned, width, unaligned[0].caps.float_width_multiple)]
    return wanted, []


def choose_results(target: Optional[SaveTarget], servers: Sequence[ServerImages]) -> Tuple[Optional[SaveTarget],
                                                                                           List[str]]:
    """The SaveImage rewrite when every known server can save it, else none (with the servers to blame)."""
    if target is None:
        return None, []
    if not _known(servers):
        return None, [NOBODY_YET + f"results are saved as the workflow saves them, not {target.label}"]
    old = [s for s in _known(servers) if not target.fits(s.caps)]
    if not old:
        return target, []
    names = ", ".join(s.where for s in old)
    return None, [
        f"{names}: no SaveImageAdvanced {target.label} (ComfyUI {SAVE_ADVANCED_RELEASE}+ has it), so results are "
        "saved as the workflow saves them (8-bit PNG) on every server; leave "
        f"{'it' if len(old) == 1 else 'them'} out with 'only servers' to get {target.label}"]


def decide(*, encoding: PlateEncoding, plate: PlateFormat, results: ResultFormat,
           servers: Sequence[ServerImages], saves_with_save_image: bool = True,
           plate_width: Optional[int] = None, srgb_assumed: bool = False) -> PixelDecision:
    """Fit the choices to `servers` (those that may take the render, with their capabilities).

    `plate` is what the artist asked (EXR_HALF / EXR_FLOAT / PNG8) or, for a file given as it is,
    EXR_FILE or FILE. An EXR file cannot be converted here: servers that cannot load it are left
    out (`left_out`), and none left is the caller's error to raise. `plate_width` (pixels) is checked
    against servers that cannot load float images of every width.
    """
    chosen_plate, losses = choose_plate(plate, servers, plate_width)
    left_out: List[str] = []
    if chosen_plate is PlateFormat.EXR_FILE:
        old = [s for s in _known(servers) if not s.caps.exr_load]
        unaligned = _unaligned(servers, plate_width)
        left_out = [s.name for s in old + unaligned]
        if old:
            losses.append(f"{', '.join(s.where for s in old)}: cannot load EXR (ComfyUI {EXR_LOAD_RELEASE}+ can); "
                          "left out of this render")
        if unaligned and plate_width is not None:
            losses.append(f"{', '.join(s.where for s in unaligned)}: cannot load a float image {plate_width} px "
                          f"wide (since ComfyUI 0.25 the width must be a multiple of "
                          f"{unaligned[0].caps.float_width_multiple}); left out of this render")
    usable = [s for s in servers if s.name not in left_out]
    save: Optional[SaveTarget] = None
    if saves_with_save_image:
        target = save_target(results, encoding, chosen_plate.is_float, srgb_assumed)
        save, result_losses = choose_results(target, usable)
        if results is not ResultFormat.PNG:
            losses += result_losses
    return PixelDecision(plate=chosen_plate, save=save, losses=tuple(losses), left_out=tuple(left_out))
