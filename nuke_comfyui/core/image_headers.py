"""Is this input frame an image at all? A look at its first bytes, before anything is sent.

Why: a plate that is not an image (a fake EXR, a 0-byte file, a text file named .png) went to the
servers, failed to load there and burned every attempt of every frame on every server. Reading a
file's first bytes is cheap (no decoding, no full read), so every frame is looked at before a
render starts, and the message names the frames and what they hold instead.

Only formats with a signature are judged by it; a file whose extension has no known signature
(TGA, ...) is left to the server. The check is the header, not the pixels: a truncated file with
a good header still gets through (the server reports it, per frame).
"""

from __future__ import annotations

import os
from typing import Dict, Optional, Tuple

HEAD_BYTES = 16

#: extension -> (name, accepted first bytes)
SIGNATURES: Dict[str, Tuple[str, Tuple[bytes, ...]]] = {
    ".png": ("PNG", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("JPEG", (b"\xff\xd8\xff",)),
    ".jpeg": ("JPEG", (b"\xff\xd8\xff",)),
    ".exr": ("OpenEXR", (b"\x76\x2f\x31\x01",)),
    ".tif": ("TIFF", (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")),
    ".tiff": ("TIFF", (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")),
    ".webp": ("WebP", (b"RIFF",)),
    ".bmp": ("BMP", (b"BM",)),
    ".gif": ("GIF", (b"GIF87a", b"GIF89a")),
    ".dpx": ("DPX", (b"SDPX", b"XPDS")),
    ".hdr": ("Radiance HDR", (b"#?RADIANCE", b"#?RGBE")),
}


def image_problem(path: str) -> Optional[str]:
    """Why `path` is not an image of the kind its extension says ("0 bytes", ...), or None."""
    ext = os.path.splitext(path)[1].lower()
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not head:
        return "0 bytes"
    known = SIGNATURES.get(ext)
    if known is None:
        return None
    name, magics = known
    if not any(head.startswith(magic) for magic in magics) or (ext == ".webp" and head[8:12] != b"WEBP"):
        return f"not a {name} image (it starts with {head[:8]!r})"
    return None
