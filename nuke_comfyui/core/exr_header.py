"""An EXR file's size and pixel types from its header, in pure Python (no image library in core).

The CLI sends an EXR plate as it is, so it must know, before any job is sent, whether the servers
can load it: some ComfyUI releases load float images only at widths that are a multiple of 32,
and half-float channels are dithered where 32-bit float is exact. The header (OpenEXR file layout:
magic 20000630, a version word, then `name\\0 type\\0 size value` attributes up to an empty name)
holds `dataWindow` (box2i) and `channels` (chlist: name, pixel type 0 uint / 1 half / 2 float).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, Optional

MAGIC = 20000630
PIXEL_TYPES = {0: "uint", 1: "half", 2: "float"}
MAX_HEADER = 1 << 20  # headers are a few kB; metadata (a prompt) can be more, never a megabyte


@dataclass(frozen=True)
class ExrHeader:
    width: int
    height: int
    channels: Dict[str, str]  # name -> "uint" | "half" | "float"

    @property
    def half(self) -> bool:
        return any(kind == "half" for kind in self.channels.values())


def _channels(value: bytes) -> Dict[str, str]:
    found: Dict[str, str] = {}
    pos = 0
    while pos < len(value) and value[pos] != 0:
        end = value.index(b"\0", pos)
        name = value[pos:end].decode("latin-1")
        (kind,) = struct.unpack_from("<i", value, end + 1)
        found[name] = PIXEL_TYPES.get(kind, "unknown")
        pos = end + 1 + 16  # pixel type, pLinear + reserved, xSampling, ySampling
    return found


def read_exr_header(path: str) -> Optional[ExrHeader]:
    """The header of the EXR at `path`, or None when it is not a readable single-part EXR."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_HEADER)
    except OSError:
        return None
    if len(data) < 8 or struct.unpack_from("<i", data, 0)[0] != MAGIC:
        return None
    pos, window, channels = 8, None, {}
    try:
        while pos < len(data) and data[pos] != 0:
            name_end = data.index(b"\0", pos)
            type_end = data.index(b"\0", name_end + 1)
            (size,) = struct.unpack_from("<i", data, type_end + 1)
            value = data[type_end + 5:type_end + 5 + size]
            name = data[pos:name_end].decode("latin-1")
            if name == "dataWindow":
                window = struct.unpack("<iiii", value)
            elif name == "channels":
                channels = _channels(value)
            pos = type_end + 5 + size
    except (ValueError, struct.error):
        return None
    if window is None:
        return None
    x_min, y_min, x_max, y_max = window
    return ExrHeader(x_max - x_min + 1, y_max - y_min + 1, channels)
