"""Float images on a simulated server: PyAV LoadImage of EXR and 16-bit PNG, as a real 0.33 does it.

Measured on a real ComfyUI 0.33.0 (tests/sim/data/comfyui-0.33-float-paths.json):
- a 32-bit float EXR loads exactly, values above 1 and below 0 kept; its alpha becomes the MASK,
  inverted (1 - alpha), as for PNG;
- a half EXR and a 16-bit PNG go through libswscale's dithered conversion: values are clamped to
  [0, 1] and the colour moves by up to 18/65535 (2.75e-4), depending on the pixel's position. The
  model adds a fixed pseudo-random offset per position, uniform in [-18, 18] / 65535 (the
  measured spread); alpha is only clamped;
- from 0.25 a non-8-bit image whose width is not a multiple of 32 fails in LoadImage with
  `av.error.ArgumentError: Invalid argument returned 22` (the decode's alignment padding).
8-bit files keep the existing Pillow path (PyAV gives the same values, v / 255).

An IMAGE in the simulator is a list of Pillow images (8-bit) or numpy float32 H x W x 3 arrays;
`to_pil` turns a float image into what an 8-bit node sees (ComfyUI's SaveImage truncation,
clip(255 x) to uint8), for the nodes that are not modelled in float.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List, Tuple

import numpy as np

DITHER_CODES = 18  # the measured spread of the 16-bit conversion, in 1/65535 steps
WIDTH_MULTIPLE = 32


class DecodeError(ValueError):
    """A decode failure carrying the library's exception type, as ComfyUI reports it."""

    exception_type = "av.error.ArgumentError"


def is_float(image: Any) -> bool:
    return isinstance(image, np.ndarray)


def to_pil(image: Any) -> Any:
    """An 8-bit Pillow image of a float image or mask (ComfyUI's truncation), or the image itself."""
    from PIL import Image

    if not is_float(image):
        return image
    if image.ndim == 2:
        return Image.fromarray(np.clip(255.0 * image, 0, 255).astype(np.uint8))  # 2-D uint8: mode L
    return Image.fromarray(np.ascontiguousarray(np.clip(255.0 * image[..., :3], 0, 255).astype(np.uint8)))


def to_float(image: Any) -> Any:
    """A float32 H x W x 3 array of any image (8-bit divided by 255)."""
    if is_float(image):
        return image.astype(np.float32)
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def as_8bit(images: Any) -> Any:
    """A batch with every float image or mask turned 8-bit (for nodes the simulator runs on Pillow)."""
    if isinstance(images, list) and any(is_float(i) for i in images):
        return [to_pil(i) for i in images]
    return images


def eight_bit(function: Any) -> Any:
    """A node function that gets its image and mask batches 8-bit (not modelled in float)."""
    def run(ctx: Any, **kwargs: Any) -> Any:
        return function(ctx, **{name: as_8bit(value) for name, value in kwargs.items()})

    run.__name__ = getattr(function, "__name__", "node")
    return run


def _dither(shape: Tuple[int, ...]) -> Any:
    """The fixed per-position offset of the 16-bit conversion (same for every load, like a real server)."""
    rng = np.random.default_rng(65535)
    return (rng.integers(-DITHER_CODES, DITHER_CODES + 1, size=shape) / 65535.0).astype(np.float32)


def _decode(path: Path) -> Tuple[Any, bool]:
    """(H x W x C float32 exactly as stored, whether it takes the 16-bit path). EXR channels are read
    with OpenEXR (exact whatever PyAV's version), a 16-bit PNG with PyAV as ComfyUI does."""
    if path.suffix.lower() == ".exr":
        import OpenEXR

        with OpenEXR.File(str(path), separate_channels=True) as exr:
            channels = {name: channel.pixels for name, channel in exr.channels().items()}
        if not {"R", "G", "B"} <= set(channels):
            raise DecodeError(f"EXR channels {sorted(channels)}: only RGB(A) images are modelled")
        names = ["R", "G", "B"] + (["A"] if "A" in channels else [])
        half = any(channels[n].dtype == np.float16 for n in names)
        return np.stack([channels[n].astype(np.float32) for n in names], axis=-1), half
    import av

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        alpha = any(component.is_alpha for component in frame.format.components)
        wide = frame.to_ndarray(format="rgba64le" if alpha else "rgb48le")
    return wide.astype(np.float32) / 65535.0, True


def needs_float_path(path: Path) -> bool:
    """EXR, or a PNG of 16 bits per channel: what PyAV gives LoadImage as float."""
    suffix = path.suffix.lower()
    if suffix == ".exr":
        return True
    if suffix != ".png" or not path.is_file():
        return False
    with path.open("rb") as fh:
        head = fh.read(26)
    return head[:8] == b"\x89PNG\r\n\x1a\n" and head[24] == 16


def load(path: Path, aligned_width: bool) -> Tuple[List[Any], List[Any]]:
    """LoadImage's ([image], [mask]) of an EXR or 16-bit PNG on a PyAV server."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{path}'")
    pixels, dithered = _decode(path)
    width = pixels.shape[1]
    if aligned_width and width % WIDTH_MULTIPLE:
        raise DecodeError("Invalid argument returned 22")
    if dithered:  # colour dithered then clamped; alpha clamped only (measured: 7.5e-6 on the mask)
        pixels = np.clip(pixels, 0.0, 1.0)
        pixels[..., :3] = np.clip(pixels[..., :3] + _dither(pixels[..., :3].shape), 0.0, 1.0)
    rgb = np.ascontiguousarray(pixels[..., :3], dtype=np.float32)
    with_alpha = pixels.shape[-1] == 4
    mask = (1.0 - pixels[..., 3]).astype(np.float32) if with_alpha else np.zeros((64, 64), np.float32)
    return [rgb], [mask]
