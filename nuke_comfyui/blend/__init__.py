"""Seam blending pixels: the one place frame batches touch image data (numpy and image codecs).

Kept out of core on purpose: core must import in Nuke's Python with no numpy or image library,
and a per-frame render never needs this. The CLI (local renders, farm tasks) and the Nuke plugin
inject the same `PixelBlender` into the scheduler, so a seam frame is the same file whichever
of them made it. See docs/TEMPORAL.md.
"""

from __future__ import annotations

from nuke_comfyui.blend.pixels import PixelBlender

__all__ = ["PixelBlender"]
