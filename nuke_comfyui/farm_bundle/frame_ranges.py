"""Frame sets in the two notations a farm task meets: Nuke's ("1-99x2") and OpenJD's ("1-99:2").

The bundle writes the group's frames as an OpenJD integer range expression (the CHUNK[INT]
task parameter needs one, and the farm manager shows it), and a farm task gets its chunk in
the same notation. core's FrameSet speaks Nuke's grammar, so both directions convert here,
term by term, refusing what one notation can say and the other cannot.
"""

from __future__ import annotations

import re

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.frames import FrameSet

_OPENJD_TERM = re.compile(r"^(-?\d+)(?:-(-?\d+)(?::(\d+))?)?$")


class FrameRangeError(NukeComfyError, ValueError):
    """A frame range that is not a valid OpenJD integer range expression."""


def to_openjd(frames: str) -> str:
    """The Nuke frame set `frames` as an OpenJD range expression, e.g. "1001-1100x2,1200" -> "1001-1099:2,1200"."""
    canonical = str(FrameSet.parse(frames))  # raises FrameSetError with the position of a mistake
    return canonical.replace("x", ":")


def from_openjd(expression: str) -> str:
    """An OpenJD range expression (as a farm task gets it) in Nuke's frame-set grammar."""
    terms = [t.strip() for t in str(expression).split(",")]
    converted = []
    for term in terms:
        match = _OPENJD_TERM.match(term)
        if not match:
            raise FrameRangeError(
                f"frame range {expression!r} is not an OpenJD range expression (term {term!r}); "
                "write frames like 1001-1100, 1-99:2 or 1,5,10-20"
            )
        start, end, step = match.groups()
        if step is not None and int(step) < 1:
            raise FrameRangeError(f"frame range {expression!r} has step {step}; steps must be at least 1")
        text = start if end is None else f"{start}-{end}"
        converted.append(text + (f"x{step}" if step and step != "1" else ""))
    nuke = ",".join(converted)
    FrameSet.parse(nuke)  # the same frames must be valid for the render (e.g. start <= end)
    return nuke
