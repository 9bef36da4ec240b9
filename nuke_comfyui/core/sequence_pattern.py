"""Nuke-style image-sequence file patterns: `plate.####.png`, `plate.%04d.png`, `plate.#.png`.

Nuke users type either form; the scheduler needs one frame's path, ComfyUI-side names and Read
nodes need the printf or hash form, and resume needs the frames already on disk.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from typing import List

from nuke_comfyui.core.errors import NukeComfyError

_HASHES = re.compile(r"#+")
_PRINTF = re.compile(r"%0?(\d*)d")


class PatternError(NukeComfyError):
    """A file pattern without (or with several) frame-number placeholders."""


@dataclass(frozen=True)
class SequencePattern:
    """`prefix` + zero-padded frame number (`padding` digits) + `suffix`."""

    prefix: str
    padding: int
    suffix: str

    @classmethod
    def parse(cls, text: str) -> SequencePattern:
        """Exactly one placeholder in the file name (`####`, `%04d`, `%d`, `#`); folders may contain anything."""
        head, tail = os.path.split(text)
        found = list(_HASHES.finditer(tail)) + list(_PRINTF.finditer(tail))
        if len(found) != 1:
            what = "no" if not found else "several"
            raise PatternError(f"file pattern {text!r} has {what} frame placeholder(s); write one, "
                               "e.g. plate.####.png or plate.%04d.png")
        match = found[0]
        token = match.group(0)
        padding = len(token) if token.startswith("#") else int(match.group(1) or 1)
        return cls(os.path.join(head, tail[: match.start()]), max(1, padding), tail[match.end():])

    def path_for(self, frame: int) -> str:
        """The file of `frame`, zero-padded to `padding` digits (a minus sign goes before the digits)."""
        sign = "-" if frame < 0 else ""
        return f"{self.prefix}{sign}{abs(frame):0{self.padding}d}{self.suffix}"

    def to_printf(self) -> str:
        return f"{self.prefix}%0{self.padding}d{self.suffix}"

    def to_hashes(self) -> str:
        return f"{self.prefix}{'#' * self.padding}{self.suffix}"

    def existing_frames(self) -> List[int]:
        """Frame numbers of the files on disk that match the pattern."""
        found = []
        digits = r"(-?\d{" + str(self.padding) + r",})"  # Nuke pads to at least `padding` digits
        expression = re.compile(re.escape(self.prefix) + digits + re.escape(self.suffix) + "$")
        for path in glob.glob(glob.escape(self.prefix) + "*" + glob.escape(self.suffix)):
            match = expression.match(path)
            if match:
                found.append(int(match.group(1)))
        return sorted(found)
