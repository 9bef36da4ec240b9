"""Results as Read nodes: one per variation and output node, beside the Comfy render node.

Called on the main thread with an immutable snapshot. Creates the Read the first time (in the
Comfy node's own group, never inside the gizmo), then updates range and label and reloads it as
frames land. The file is set with `fromUserText`, as the file browser does, so Nuke reads the
frame range and the image format from disk (a plain `setValue` leaves the default format), and
the colour space is set from the file type (sRGB for PNG/JPEG/WebP, linear for EXR). While
frames are missing `on_error` is "checkerboard"; once every frame is on disk it becomes "error"
so a later real problem is not hidden.
A workflow with one output node gives `<node>_var01`, `<node>_var02`, ...; with several (an image
plus a depth or mask output) each gets its own Read, `<node>_<output title>_var01`. A Read made
before the rename (`<node>_v01`) is found through the node's stored names and kept. Frames a
server saved in another format than the plan's (no float saver there when its job was sent) get
a Read of their own, `<node>_var01_png` (core/mixed_formats.py), so neither hides the other.
"""

from __future__ import annotations

import logging
import os
import re
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

import nuke

from nuke_comfyui.core.mixed_formats import fallback_suffixes
from nuke_comfyui.core.pixels.colour_names import ColourChoice
from nuke_comfyui.core.variation_names import variation_name
from nuke_comfyui.host.colour import script_colour_names, set_colour
from nuke_comfyui.host.graph import beside, sibling

if TYPE_CHECKING:
    from nuke_comfyui.core.scheduler import OutputSequence

log = logging.getLogger(__name__)
MISSING_FRAMES = "checkerboard"
COMPLETE = "error"
GAP_X = 40
OFFSET_Y = 0


def safe_title(title: str) -> str:
    """An output node title as a node-name part: letters, digits and underscores only."""
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_") or "out"


def read_name(render_node: str, variation: int, output_title: str = "") -> str:
    """ComfyRender1_var01 (or ComfyRender1_depth_var01): stable, so reloads and reopened scripts find it."""
    middle = f"_{safe_title(output_title)}" if output_title else ""
    return f"{render_node}{middle}_{variation_name(variation)}"


def sequence_key(seq: OutputSequence, several_outputs: bool) -> str:
    """The job-state key of a sequence: its variation, plus its output node when there are several."""
    return f"{seq.variation}/{seq.output_node}" if several_outputs else str(seq.variation)


def label_for(seq: OutputSequence) -> str:
    servers = ", ".join(seq.servers) if seq.servers else "-"
    return f"seed {seq.seed}\n{servers}" if getattr(seq, "seeded", True) else servers


def _complete(seq: OutputSequence) -> bool:
    return len(set(seq.frames_done)) >= (seq.last - seq.first + 1)


def _place(read: nuke.Node, render: nuke.Node, index: int) -> None:
    step = render.screenWidth() + GAP_X
    read.setXYpos(render.xpos() + step * (index + 1), render.ypos() + OFFSET_Y)


def _read_colour(seq: OutputSequence, colours: Mapping[str, Any]) -> Optional[ColourChoice]:
    """The colour a sequence's Read converts from: what its files mean, in the script's names.

    A node rendered before colours were stored reads PNG as sRGB and EXR as linear Rec.709 (what
    the plugin assumed then), named from the script's config now.
    """
    from nuke_comfyui.core.pixels import PlateEncoding, result_colour

    ext = os.path.splitext(seq.pattern)[1]
    if not colours:
        if ext.lower() == ".exr":
            return script_colour_names().linear_rec709
        meaning = result_colour(PlateEncoding.SRGB, ext, None)
        return script_colour_names().for_result(meaning) if meaning is not None else None
    meaning = result_colour(PlateEncoding(colours.get("encoding", "srgb")), ext,
                            (colours.get("exr_spaces") or {}).get(str(seq.output_node)))
    if meaning is None:
        return None
    return ColourChoice((colours.get("colours") or {}).get(meaning.value))


def _set_colour(read: nuke.Node, seq: OutputSequence, colours: Mapping[str, Any]) -> None:
    choice = _read_colour(seq, colours)
    if choice is None:
        return
    if choice.name is None and bool(read["raw"].value()):
        return
    if choice.name is not None and str(read["colorspace"].value()) == choice.name and not read["raw"].value():
        return
    for note in set_colour(read, ColourChoice(choice.name)):
        log.warning("%s: %s", read.name(), note)


def sync_read(render: nuke.Node, seq: OutputSequence, index: int, name: str,
              colours: Optional[Mapping[str, Any]] = None) -> str:
    """Create or update the Read called name (beside render) for one sequence; returns its name."""
    read = sibling(render, name)
    created = read is None or read.Class() != "Read"
    first, last = int(seq.first), int(seq.last)
    if read is None or read.Class() != "Read":
        with beside(render):
            read = nuke.nodes.Read()
            if nuke.toNode(name) is None:
                read.setName(name)
        _place(read, render, index)
    file_knob = read["file"]
    completing = _complete(seq) and str(read["on_error"].value()) != COMPLETE
    if isinstance(file_knob, nuke.File_Knob) and (
            created or completing or str(file_knob.getText()) != seq.pattern or read["first"].value() != first):
        # again once complete: the first frame may not have existed when the Read was made
        file_knob.fromUserText(f"{seq.pattern} {first}-{last}")
    for knob, value in (("first", first), ("last", last), ("origfirst", first), ("origlast", last)):
        if read[knob].value() != value:
            read[knob].setValue(value)
    _set_colour(read, seq, colours or {})
    read["on_error"].setValue(COMPLETE if _complete(seq) else MISSING_FRAMES)
    read["label"].setValue(label_for(seq))
    reload = read["reload"]
    if not created and isinstance(reload, nuke.Script_Knob):
        reload.execute()
    return str(read.name())


def kept_sequences(sequences: Sequence[OutputSequence], previews: Sequence[str]) -> List[OutputSequence]:
    """Saved outputs only; preview (temp) outputs only when the workflow saves nothing."""
    saved = [s for s in sequences if s.output_node not in set(previews)]
    return saved or list(sequences)


def sync_reads(render: nuke.Node, sequences: Sequence[OutputSequence], known: Dict[str, str],
               titles: Optional[Mapping[str, str]] = None,
               colours: Optional[Mapping[str, Any]] = None) -> Dict[str, str]:
    """Sync every sequence that has at least one frame; returns sequence key -> Read name.

    titles maps output node ids to their titles in the workflow (used only with several outputs).
    """
    names = dict(known)
    several = len({s.output_node for s in sequences}) > 1
    ordered = sorted(sequences, key=lambda s: (s.variation, s.output_node))
    fallbacks = fallback_suffixes(ordered)  # frames a server saved in another format: a Read of their own
    for index, seq in enumerate(ordered):
        fallback = fallbacks[index]
        key = sequence_key(seq, several) + (f"#{fallback}" if fallback else "")
        if not seq.frames_done and key not in names:
            continue
        title = ((titles or {}).get(seq.output_node) or f"out{seq.output_node}") if several else ""
        default = read_name(render.name(), seq.variation, title) + (f"_{fallback}" if fallback else "")
        names[key] = sync_read(render, seq, index, names.get(key, default), colours)
    return names
