"""SaveImageAdvanced (ComfyUI 0.23+): PNG 8/16-bit or 32-bit float EXR, as comfy_extras/nodes_images.py.

Its `format` is a V3 dynamic combo; the executor hands it over nested, as ComfyUI's
build_nested_inputs does: {"format": "exr", "bit_depth": "32-bit float", "input_color_space": ...}.
What the real node does, and so what this does:
- exr: `input_color_space` sRGB applies the inverse sRGB EOTF (piecewise, IEC 61966-2-1), HDR the
  inverse HLG OETF (BT.2100), linear writes through; float32, no clamp; channels R, G, B (A for
  RGBA), no compression, a `chromaticities` attribute (Rec.709, Rec.2020 for HDR) and the prompt
  as string attributes (measured on 0.33: NO_COMPRESSION, R G B, chromaticities);
- png: `(x * scale).clamp(0, scale)` truncated to 8 or 16 bits, pixels never colour-converted;
- files are `<prefix>_<counter:05>.<ext>` (no trailing underscore, unlike SaveImage).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

from nuke_comfyui.sim import float_images

_HLG_A, _HLG_B, _HLG_C = 0.17883277, 0.28466892, 0.55991072928
REC709 = (0.6400, 0.3300, 0.3000, 0.6000, 0.1500, 0.0600, 0.3127, 0.3290)
REC2020 = (0.7080, 0.2920, 0.1700, 0.7970, 0.1310, 0.0460, 0.3127, 0.3290)


def srgb_to_linear(values: Any) -> Any:
    low = values / 12.92
    high = np.power(np.maximum(values, 0.04045) + 0.055, 2.4) / np.power(1.055, 2.4)
    return np.where(values <= 0.04045, low, high).astype(np.float32)


def hlg_to_linear(values: Any) -> Any:
    low = values * values / 3.0
    high = (np.exp((np.maximum(values, 0.5) - _HLG_C) / _HLG_A) + _HLG_B) / 12.0
    return np.where(values <= 0.5, low, high).astype(np.float32)


def save_path(folder: Path, base: str, ext: str, index: int) -> Tuple[Path, str]:
    """`<base>_<counter:05>.<ext>`; the counter starts after SaveImage-style `<base>_NNNNN_` files,
    as folder_paths.get_save_image_path counts them (the node's own names do not advance it)."""
    pattern = re.compile(re.escape(base) + r"_(\d{5,})_")
    counter = max([int(m.group(1)) for m in map(pattern.match, os.listdir(folder)) if m] or [0]) + 1 + index
    name = f"{base}_{counter:05d}.{ext}"
    return folder / name, name


def _write_exr(path: Path, pixels: Any, color_space: str, metadata: Dict[str, str]) -> None:
    import OpenEXR

    names = "RGBA"[: pixels.shape[-1]] if pixels.shape[-1] in (3, 4) else "Y"
    channels = {name: np.ascontiguousarray(pixels[..., i], dtype=np.float32) for i, name in enumerate(names)}
    header: Dict[str, Any] = {"compression": OpenEXR.NO_COMPRESSION, "type": OpenEXR.scanlineimage,
                              "chromaticities": REC2020 if color_space == "HDR" else REC709}
    header.update(metadata)
    with OpenEXR.File(header, channels) as exr:
        exr.write(str(path))


def _png(path: Path, pixels: Any, sixteen: bool) -> None:
    from PIL import Image

    if not sixteen:
        Image.fromarray(np.clip(pixels * 255.0, 0, 255).astype(np.uint8)).save(path)
        return
    from fractions import Fraction

    import av

    height, width = pixels.shape[:2]
    ints = np.clip(pixels[..., :3] * 65535.0, 0, 65535).astype(np.uint16)
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt, codec.time_base = width, height, "rgb48be", Fraction(1, 1)
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(ints), format="rgb48le").reformat(format="rgb48be")
    frame.pts = 0
    path.write_bytes(b"".join(bytes(p) for p in [*codec.encode(frame), *codec.encode(None)]))


def save_image_advanced(ctx: Any, *, images: List[Any], filename_prefix: str = "ComfyUI",
                        format: Dict[str, Any]) -> Any:
    kind, depth = str(format.get("format")), str(format.get("bit_depth"))
    color_space = str(format.get("input_color_space", "sRGB"))
    first, _, subfolder = ctx.folders.next_save_path("output", filename_prefix)
    folder = first.parent
    base = os.path.basename(os.path.normpath(filename_prefix)) or "ComfyUI"
    metadata = {"prompt": json.dumps(ctx.prompt)}
    metadata.update({str(k): json.dumps(v) for k, v in (ctx.extra_data.get("extra_pnginfo") or {}).items()})
    results = []
    for index, image in enumerate(images):
        pixels = float_images.to_float(image)
        path, name = save_path(folder, base, kind, index)
        if kind == "exr":
            converted = {"sRGB": srgb_to_linear, "HDR": hlg_to_linear}.get(color_space, lambda v: v)(pixels)
            _write_exr(path, converted, color_space, metadata)
        elif kind == "png":
            _png(path, pixels, depth == "16-bit")
        else:
            raise ValueError(f"No {kind}/{depth} encoder")
        results.append({"filename": name, "subfolder": subfolder, "type": "output"})
    return (images,), {"images": results}


FUNCTIONS: Dict[str, Callable[..., Any]] = {"SaveImageAdvanced": save_image_advanced}
