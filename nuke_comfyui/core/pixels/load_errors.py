"""The fix for a LoadImage that failed on a plate, as ComfyUI reports it (exception type and message).

A server that cannot read what it was sent fails in LoadImage with a library's error; the job's
reason then gets the fix appended, in the words of what was measured on real servers:
- `PIL.UnidentifiedImageError` on an `.exr`: ComfyUI before 0.21 reads images with Pillow, which
  has no EXR reader;
- `av.error.ArgumentError` "Invalid argument": ComfyUI 0.25+ fails on a float (EXR, 16-bit) image
  whose width is not a multiple of 32 (measured on 0.33, tests/sim/data/comfyui-0.33-float-paths.json).
"""

from __future__ import annotations

from typing import Optional

LOADERS = ("LoadImage", "LoadImageMask", "LoadImageOutput")


def load_error_hint(node_type: str, exception_type: str, message: str) -> Optional[str]:
    """The fix to append to a loader's failure, or None when it is not one of these."""
    if node_type not in LOADERS:
        return None
    if exception_type == "PIL.UnidentifiedImageError" and ".exr" in message.lower():
        return ("this ComfyUI cannot read EXR (0.21 and newer can): upgrade it, leave it out of the render, "
                "or send 8-bit PNG")
    if exception_type == "av.error.ArgumentError" and "invalid argument" in message.lower():
        return ("this ComfyUI cannot load a float image at this width (from 0.25 it must be a multiple of 32): "
                "reformat the plate, or send 8-bit PNG")
    return None
