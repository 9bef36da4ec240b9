"""Frame sets in Nuke's grammar: `1001-1100`, `1-100x2`, `1,5,10-20`, negative frames, spaces or commas.

Parsed once into an immutable, ordered, de-duplicated tuple; an error points at the bad token.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, List, Sequence, Set, Tuple

from nuke_comfyui.core.errors import FrameSetError

#: the most frames one frame set may hold: over half an hour at 24 fps, far beyond any shot, and
#: small enough that planning, the journal and cancelling stay quick (docs/BAD_INPUT.md)
MAX_FRAMES = 50_000

_TOKEN = re.compile(r"^(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?$")
_SEPARATED = re.compile(r"[^,\s]+")


class FrameSet:
    """An ordered set of frame numbers. Build it with `FrameSet.parse(text)` or `FrameSet(frames)`."""

    __slots__ = ("_frames",)
    _frames: Tuple[int, ...]

    def __init__(self, frames: Iterable[int]) -> None:
        object.__setattr__(self, "_frames", tuple(sorted(set(int(f) for f in frames))))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("FrameSet is immutable; build a new one with FrameSet(frames)")

    @classmethod
    def parse(cls, text: str) -> FrameSet:
        """Read Nuke's frame-set text; tokens are separated by commas and/or spaces.

        Raises FrameSetError naming the 1-based position and the token, and what was expected.
        """
        text = str(text)
        frames: Set[int] = set()
        for match in _SEPARATED.finditer(text):
            frames.update(_expand(match.group(0), match.start(), text))
            if len(frames) > MAX_FRAMES:
                raise FrameSetError(f"frame set {text!r} has more than {MAX_FRAMES:,} frames, the most one "
                                    "render takes; split it into several renders")
        if not frames:
            raise FrameSetError(f"frame set {text!r} is empty; write e.g. 1001-1100, 1-100x2 or 1,5,10-20")
        result = cls(frames)
        return result

    @property
    def frames(self) -> Tuple[int, ...]:
        return self._frames

    @property
    def first(self) -> int:
        return self._frames[0]

    @property
    def last(self) -> int:
        return self._frames[-1]

    def __len__(self) -> int:
        return len(self._frames)

    def __iter__(self) -> Iterator[int]:
        return iter(self._frames)

    def __contains__(self, frame: object) -> bool:
        return frame in self._frames

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrameSet) and other._frames == self._frames

    def __hash__(self) -> int:
        return hash(self._frames)

    def __repr__(self) -> str:
        return f"FrameSet.parse({str(self)!r})"

    def __str__(self) -> str:
        """Canonical compact form: runs with a constant step become `a-b` or `a-bxN`."""
        parts: List[str] = []
        frames = self._frames
        i = 0
        while i < len(frames):
            j = i
            if i + 1 < len(frames):
                step = frames[i + 1] - frames[i]
                while j + 1 < len(frames) and frames[j + 1] - frames[j] == step:
                    j += 1
                if j - i < 2 and step != 1:  # two frames with a gap: clearer as a list
                    j = i
            if j == i:
                parts.append(str(frames[i]))
            else:
                step = frames[i + 1] - frames[i]
                parts.append(f"{frames[i]}-{frames[j]}" + (f"x{step}" if step != 1 else ""))
            i = j + 1
        return ",".join(parts)

    def chunks(self, size: int) -> List[Tuple[int, ...]]:
        """Consecutive runs of at most `size` frames (a chunk never spans a gap)."""
        if size < 1:
            raise FrameSetError(f"chunk size {size} must be at least 1")
        out: List[Tuple[int, ...]] = []
        current: List[int] = []
        for frame in self._frames:
            if current and (frame != current[-1] + 1 or len(current) == size):
                out.append(tuple(current))
                current = []
            current.append(frame)
        if current:
            out.append(tuple(current))
        return out


def _expand(token: str, position: int, text: str) -> List[int]:
    match = _TOKEN.match(token)
    if not match:
        raise FrameSetError(f"frame set {text!r}: cannot read {token!r} at position {position + 1}; "
                            "expected a frame (1001), a range (1001-1100) or a stepped range (1-100x2)")
    start, end, step = match.group(1), match.group(2), match.group(3)
    if end is None:
        return [int(start)]
    first, last, by = int(start), int(end), int(step or 1)
    if by < 1:
        raise FrameSetError(f"frame set {text!r}: step in {token!r} at position {position + 1} must be at least 1")
    if last < first:
        raise FrameSetError(f"frame set {text!r}: range {token!r} at position {position + 1} runs backwards; "
                            f"write {last}-{first}")
    if (last - first) // by >= MAX_FRAMES:
        raise FrameSetError(f"frame set {text!r}: range {token!r} has more than {MAX_FRAMES:,} frames, the most "
                            "one render takes; split it into several renders")
    return list(range(first, last + 1, by))


def frame_ranges(frames: Sequence[int]) -> str:
    """`1-2,5,7-9` for the frames that exist."""
    parts: List[str] = []
    ordered = sorted(set(frames))
    if not ordered:
        return ""
    start = prev = ordered[0]
    for frame in ordered[1:]:
        if frame == prev + 1:
            prev = frame
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = frame
    parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)
