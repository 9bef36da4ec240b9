"""Which files a server may hand back as results: the extensions workflows produce.

Why: the server chooses the file name, and so the extension. A hostile or compromised server
reported `payload.sh` and a `.desktop` launcher as outputs, and both were written into the
artist's output folder, where a file manager may run them. Results are images, video, audio
and the data files ComfyUI's own save nodes write; anything else is refused by name before a
byte is fetched. The list is documented in docs/BAD_INPUT.md (keep both in step).
"""

from __future__ import annotations

import os
from typing import FrozenSet

IMAGES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".exr", ".tif", ".tiff", ".bmp", ".gif", ".dpx", ".hdr",
                    ".avif", ".jxl", ".tga"})
VIDEO = frozenset({".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v"})
AUDIO = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac"})
#: SaveLatent, model and LoRA saves, 3D saves (SaveGLB), text and array outputs of custom nodes
DATA = frozenset({".latent", ".safetensors", ".json", ".txt", ".csv", ".npy", ".npz", ".glb", ".gltf",
                  ".obj", ".ply", ".stl"})
RESULT_EXTENSIONS: FrozenSet[str] = IMAGES | VIDEO | AUDIO | DATA


def result_extension(filename: str) -> str:
    """The lower-case extension of a result's name (".png"); ValueError naming it when not allowed."""
    ext = os.path.splitext(filename)[1].lower()
    if ext not in RESULT_EXTENSIONS:
        raise ValueError(f"{filename!r}: {ext or 'no extension'} is not an image, video, audio or data extension "
                         "a workflow saves")
    return ext
