"""The Comfy node's frame-batch knobs (frames per chunk, overlap, seam, chunk seeds, split chunks
out of memory) onto a request.

Kept apart from knobs.py: frame batches are one feature with four knobs, read the same way by
Render, Submit to farm and headless (all through render.node_request). A gizmo's knobs come from
the .gizmo file, so nodes of scripts saved before these knobs existed get them at their
defaults (frame by frame); a node without them (a gizmo copied into a Group earlier) does too.
Animated knobs of the workflow are sent once per chunk, at the chunk's first frame (core's
RenderRequest.values_for, see docs/TEMPORAL.md).
"""

from __future__ import annotations

from typing import Any, Dict

import nuke

from nuke_comfyui.host.knobs import NodeSetupError

CHUNK_SIZE = "chunk_size"
OVERLAP = "overlap"
SEAM = "seam"
CHUNK_SEEDS = "chunk_seeds"
SPLIT_ON_OOM = "split_on_oom"
FRAME_BATCH_KNOBS = (CHUNK_SIZE, OVERLAP, SEAM, CHUNK_SEEDS, SPLIT_ON_OOM)
_DEFAULTS: Dict[str, Any] = {CHUNK_SIZE: 1, OVERLAP: 0, SEAM: "crossfade", CHUNK_SEEDS: "same", SPLIT_ON_OOM: False}


def read_frame_batch(node: nuke.Node) -> Dict[str, Any]:
    """The RenderRequest fields of the node's frame-batch knobs (defaults for a node without them)."""
    present = node.knobs()
    values = dict(_DEFAULTS)
    for name in (CHUNK_SIZE, OVERLAP):
        if name in present:
            number = float(node[name].value())
            if number != int(number):
                raise NodeSetupError(f"{node.fullName()}: '{name.replace('_', ' ')}' is {number:g}; "
                                     "give a whole number of frames")
            values[name] = int(number)
    for name in (SEAM, CHUNK_SEEDS):
        if name in present:
            values[name] = str(node[name].value())
    if SPLIT_ON_OOM in present:
        values[SPLIT_ON_OOM] = bool(node[SPLIT_ON_OOM].value())
    if values[CHUNK_SIZE] < 1:
        raise NodeSetupError(f"{node.fullName()}: 'frames per chunk' is {values[CHUNK_SIZE]}; set it to 1 "
                             "(frame by frame) or more")
    return values


def apply(node: nuke.Node, request: Any) -> None:
    """Set the request's chunking from the node (RenderRequest.validate names what is wrong with it)."""
    for name, value in read_frame_batch(node).items():
        setattr(request, name, value)
