"""Results as Read nodes: one per output sequence (variation), beside the Comfy render node.

Called on the main thread with an immutable snapshot. Creates the Read the first time, then only
updates range and label and reloads it as frames land. While frames are missing `on_error` is
"checkerboard" (a missing frame shows as a checkerboard instead of stopping the comp); once every
frame of the sequence is on disk it becomes "error" so a later real problem is not hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Sequence

import nuke

if TYPE_CHECKING:
    from nuke_comfyui.core.scheduler import OutputSequence

MISSING_FRAMES = "checkerboard"
COMPLETE = "error"
GAP_X = 40
OFFSET_Y = 0


def read_name(render_node: str, variation: int) -> str:
    """ComfyRender1_v01 for core's 0-based variation 0: stable, so reloads and reopened scripts find it."""
    return f"{render_node}_v{variation + 1:02d}"


def label_for(seq: OutputSequence) -> str:
    servers = ", ".join(seq.servers) if seq.servers else "-"
    return f"seed {seq.seed}\n{servers}"


def _complete(seq: OutputSequence) -> bool:
    return len(set(seq.frames_done)) >= (seq.last - seq.first + 1)


def _place(read: nuke.Node, render: nuke.Node, index: int) -> None:
    step = render.screenWidth() + GAP_X
    read.setXYpos(render.xpos() + step * (index + 1), render.ypos() + OFFSET_Y)


def sync_read(render: nuke.Node, seq: OutputSequence, index: int, known_name: str = "") -> str:
    """Create or update the Read for one sequence; returns its name."""
    name = known_name or read_name(render.name(), seq.variation)
    read = nuke.toNode(name)
    created = read is None or read.Class() != "Read"
    if read is None or read.Class() != "Read":
        read = nuke.nodes.Read()
        read.setName(name if nuke.toNode(name) is None else read.name())
        _place(read, render, index)
    first, last = int(seq.first), int(seq.last)
    read["file"].setValue(seq.pattern)
    read["first"].setValue(first)
    read["last"].setValue(last)
    read["origfirst"].setValue(first)
    read["origlast"].setValue(last)
    read["on_error"].setValue(COMPLETE if _complete(seq) else MISSING_FRAMES)
    read["label"].setValue(label_for(seq))
    reload = read["reload"]
    if not created and isinstance(reload, nuke.Script_Knob):
        reload.execute()
    return read.name()


def sync_reads(
    render: nuke.Node, sequences: Sequence[OutputSequence], known: Dict[str, str]
) -> Dict[str, str]:
    """Sync every sequence that has at least one frame; returns variation -> Read name."""
    names = dict(known)
    ordered = sorted(sequences, key=lambda s: s.variation)
    for index, seq in enumerate(ordered):
        if not seq.frames_done and str(seq.variation) not in names:
            continue
        names[str(seq.variation)] = sync_read(render, seq, index, names.get(str(seq.variation), ""))
    return names
