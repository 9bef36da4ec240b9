"""Animated workflow inputs in a frame-batch render: which ones a chunk cannot follow.

A chunk is one prompt, and a prompt holds one value per input, so a chunk sends each animated
input's value at its first frame (docs/TEMPORAL.md, "Knobs per chunk"). That is right for a knob
keyed once per shot and wrong for one animated across a chunk: the artist sees the key they set
at frame 1040 take effect only at the next chunk's start. This says which inputs change within a
chunk, once per input, so the render can tell the artist before it runs rather than after.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from nuke_comfyui.core.chunk_plan import ChunkPlan
from nuke_comfyui.core.errors import NukeComfyError


def held_in_request(request: Any) -> List[str]:
    """`held_per_chunk` for a RenderRequest; a request whose chunks cannot be planned says nothing
    here (its validation names the problem)."""
    try:
        plan = request.chunk_plan()
    except (NukeComfyError, ValueError):
        return []
    return held_per_chunk(plan, request.frame_values)


def held_per_chunk(plan: Optional[ChunkPlan], frame_values: Optional[Dict[str, Dict[str, Any]]]) -> List[str]:
    """One line per animated input whose value changes inside some chunk (none for per-frame renders)."""
    if plan is None or not frame_values:
        return []
    notes = []
    for key in sorted(frame_values):
        per_frame = frame_values[key]
        for chunk in plan.chunks:
            held = [per_frame[str(f)] for f in chunk.frames if str(f) in per_frame]
            if len({json.dumps(value, sort_keys=True, default=str) for value in held}) > 1:
                notes.append(f"input {key} is animated within chunk {chunk.span} (from {_short(held[0])} to "
                             f"{_short(held[-1])}); a chunk is one prompt, so each chunk sends its value at its "
                             "first frame: key it once per chunk, or render per frame to follow it")
                break
    return notes


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
