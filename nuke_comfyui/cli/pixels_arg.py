"""`render --output-format exr|png16|png|auto`: the CLI's files fitted to the servers, as the node does.

The CLI sends input files as they are (no colour conversion outside Nuke), so the plate is what
the file is: an EXR is float in the working space (`linear`, written through on save), any other
file an sRGB-encoded image (decoded to linear Rec.709 when saved as EXR); `--plate-encoding`
says otherwise (a Nuke node's farm bundle passes what its plate was written in). `auto` saves 32-bit
float EXR when the input is an EXR and every server that may take the render can (ComfyUI 0.23+
SaveImageAdvanced); else as the workflow saves. An EXR input is never sent to a server that cannot
load it (before 0.21, or a width not a multiple of 32 from 0.25): those servers are left out of
the render and named; none left is a clear error. What was decided and lost is printed once.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, List, Optional

from nuke_comfyui.core.errors import NoCapableServer

CHOICES = ("auto", "exr", "png16", "png")
ENCODINGS = ("srgb", "log", "linear")
FIRST_ANSWERS_WAIT_S = 10.0


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output-format", choices=CHOICES, default="auto",
                        help="how SaveImage results are saved: exr (32-bit float), png16, png (the workflow's "
                             "own), or auto (default: EXR when the input is EXR and the servers can)")
    parser.add_argument("--plate-encoding", choices=ENCODINGS, default=None,
                        help="what the input files' numbers mean: srgb, log or linear (default: linear for EXR, "
                             "srgb otherwise); sRGB is decoded to linear when results are saved as EXR")


def _first_frame(request: Any) -> Optional[str]:
    from nuke_comfyui.core.frames import FrameSet
    from nuke_comfyui.core.sequence_pattern import SequencePattern

    if not request.input_pattern or not request.frames:
        return None
    frames = list(FrameSet.parse(request.frames))
    return SequencePattern.parse(request.input_pattern).path_for(frames[0]) if frames else None


def fit_pixels(request: Any, output_format: str, farm: Any, encoding_name: Optional[str] = None) -> List[str]:
    """Decide the request's pixels for the farm's answering servers; returns the notes to print."""
    from nuke_comfyui.core.exr_header import read_exr_header
    from nuke_comfyui.core.pixels import PixelRequest, PlateEncoding, PlateFormat, ResultFormat, ServerImages, decide
    from nuke_comfyui.core.pixels.savers import save_image_nodes
    from nuke_comfyui.core.pool.image_caps import usable_image_capabilities, wait_for_first_answers
    from nuke_comfyui.core.workflow import load_workflow

    first = _first_frame(request)
    header = read_exr_header(first) if first and first.lower().endswith(".exr") else None
    is_exr = bool(first and first.lower().endswith(".exr"))
    wait_for_first_answers(farm.pool, FIRST_ANSWERS_WAIT_S)
    caps = usable_image_capabilities(farm.pool, request.servers)
    encoding = PlateEncoding(encoding_name) if encoding_name else PlateEncoding.LINEAR if is_exr \
        else PlateEncoding.SRGB
    plate = PlateFormat.EXR_FILE if is_exr else PlateFormat.FILE
    workflow = load_workflow(request.workflow_path, farm.pool.object_info() or None)
    decision = decide(encoding=encoding, plate=plate, results=ResultFormat(output_format),
                      servers=[ServerImages(name, c) for name, c in caps.items()],
                      saves_with_save_image=bool(save_image_nodes(workflow)),
                      plate_width=header.width if header else None)
    if decision.left_out:
        kept = [name for name in (request.servers or [s.name for s in farm.pool.servers() if s.enabled])
                if name not in decision.left_out]
        if not kept:
            why = "; ".join(loss.replace("; left out of this render", "") for loss in decision.losses
                            if loss.endswith("left out of this render"))
            raise NoCapableServer(f"no server can load the EXR input {first}: {why}; upgrade ComfyUI (0.21+ "
                                  "loads EXR), reformat the plate, or give PNG frames")
        request.servers = kept
    notes = list(decision.losses)
    if header is not None and header.half and decision.plate.is_float:
        notes.append(f"{first} holds half floats: ComfyUI 0.33 dithers them (up to 2.8e-4) and clamps them to "
                     "[0, 1]; write the plate as 32-bit float to send it exactly")
    results = "png" if decision.save is None else ("exr" if decision.save.format == "exr" else "png16")
    request.pixels = PixelRequest(encoding.value, decision.plate.value, results, notes,
                                  header.width if header else None).to_dict()
    return notes


def print_notes(notes: List[str]) -> None:
    for note in notes:
        print(f"pixels: {note}", file=sys.stderr)
