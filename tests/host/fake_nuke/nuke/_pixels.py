"""Pixels as Nuke computes them: float RGBA in the working space, files in and out with their colour.

Sources: Foundry's Read and Write references (a file's `colorspace` converts to and from the
working space; "default" takes the project's LUT for the file's data type: `int8Lut` for 8-bit,
`int16Lut` for 16-bit integer, `floatLut` for float files; `raw` skips the conversion; alpha is
never converted; PNG `datatype` 8/16 bit; EXR `datatype` "16 bit half"/"32 bit float",
`compression`), the Invert, OCIOColorSpace (`in_colorspace`, `out_colorspace`, `channels`) and
Expression (`expr0`..`expr3` for red, green, blue, alpha; a comparison gives 1 or 0, `||` is or)
references. Images are numpy float32 H x W x 4 (row 0 at the top, as files store them). A colour
source (Constant, ColorBars, ...) stands for an sRGB-authored 8-bit colour read through `int8Lut`,
so writing it back as an 8-bit file in that space gives its bytes. Expressions other than OR-ed
channel comparisons are not modelled.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Tuple

from . import _ocio
from ._state import not_modelled

if TYPE_CHECKING:
    from ._nodes import Node

_CHANNELS = {"all": "rgba", "rgba": "rgba", "rgb": "rgb", "alpha": "a", "none": ""}
_COMPARISON = re.compile(r"^\s*([rgba])\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d*)?)\s*$")
_EXR_COMPRESSION = {"none": "NO_COMPRESSION", "Zip (1 scanline)": "ZIPS_COMPRESSION",
                    "Zip (16 scanlines)": "ZIP_COMPRESSION", "PIZ Wavelet (32 scanlines)": "PIZ_COMPRESSION"}


def _np() -> Any:
    import numpy

    return numpy


# -------------------------------------------------------------------------------- file reading
def png_bit_depth(path: str) -> int:
    with open(path, "rb") as fh:
        head = fh.read(26)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise RuntimeError(f"Read error: {path}: not a PNG file")
    return int(head[24])


def read_file(path: str) -> Tuple[Any, str]:
    """(RGBA float32 as stored, data kind 'int8'|'int16'|'float') of an image file."""
    np = _np()
    ext = os.path.splitext(path)[1].lower()
    if ext == ".exr":
        import OpenEXR

        with OpenEXR.File(path, separate_channels=True) as exr:
            channels = {name: channel.pixels for name, channel in exr.channels().items()}
        if "R" not in channels and "Y" not in channels:
            raise not_modelled(f"reading EXR channels {sorted(channels)} (only R, G, B, A or Y)")
        first = channels.get("R", channels.get("Y"))
        out = np.zeros((*first.shape[:2], 4), np.float32)
        out[..., 3] = 1.0
        for index, name in enumerate("RGBA"):
            source = channels.get(name, channels.get("Y") if name != "A" else None)
            if source is not None:
                out[..., index] = source.astype(np.float32)
        return out, "float"
    if ext == ".png" and png_bit_depth(path) == 16:
        import av

        with av.open(path) as container:
            frame = next(container.decode(video=0))
            return frame.to_ndarray(format="rgba64le").astype(np.float32) / 65535.0, "int16"
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0, "int8"


def file_has_alpha(path: str) -> bool:
    """Whether an image file holds an alpha channel (False when it is missing)."""
    if not os.path.isfile(path):
        return False
    if path.lower().endswith(".exr"):
        import OpenEXR

        with OpenEXR.File(path, header_only=True) as exr:
            return any(channel.name == "A" for channel in exr.header()["channels"])
    from PIL import Image

    with Image.open(path) as image:
        return "A" in image.getbands() or "transparency" in image.info


def image_size(path: str) -> Optional[Tuple[int, int]]:
    """(width, height) of an image file, or None when it is missing."""
    if not os.path.isfile(path):
        return None
    if path.lower().endswith(".exr"):
        import OpenEXR

        with OpenEXR.File(path, header_only=True) as exr:
            (x0, y0), (x1, y1) = exr.header()["dataWindow"]
            return int(x1 - x0 + 1), int(y1 - y0 + 1)
    from PIL import Image

    with Image.open(path) as image:
        return image.size  # type: ignore[no-any-return]


# -------------------------------------------------------------------------------- rendering
def to_working(image: Any, colorspace: str, kind: str, raw: bool) -> Any:
    if raw:
        return image
    out = image.copy()
    out[..., :3] = _ocio.convert(image[..., :3], _ocio.resolve(colorspace, kind), _ocio.working_space())
    return out


def from_working(image: Any, colorspace: str, kind: str, raw: bool) -> Any:
    if raw:
        return image
    out = image.copy()
    out[..., :3] = _ocio.convert(image[..., :3], _ocio.working_space(), _ocio.resolve(colorspace, kind))
    return out


def colour_source(node: Node, frame: int) -> Any:
    """A generated colour from node and frame, as an sRGB-authored 8-bit colour read through int8Lut."""
    from ._nodes import root

    np = _np()
    fmt = root().format()
    seed = sum(map(ord, node.name()))
    pixel = np.array([(frame * 7) % 256, seed % 256, 128, 200], np.float32) / 255.0
    image = np.broadcast_to(pixel, (fmt.height(), fmt.width(), 4)).copy()
    return to_working(image, "default", "int8", False)


def invert(node: Node, image: Any) -> Any:
    """Foundry's Invert: 1 - value in the chosen channels."""
    if node.input(1) is not None or float(node["mix"].value()) != 1.0:
        raise not_modelled("Invert with a mask input or a mix below 1")
    out = image.copy()
    for index, name in enumerate("rgba"):
        if name in _CHANNELS[str(node["channels"].value())]:
            out[..., index] = 1.0 - image[..., index]
    return out


def ocio_colorspace(node: Node, image: Any) -> Any:
    """OCIOColorSpace: in_colorspace -> out_colorspace on rgb (its default channels)."""
    if str(node["channels"].value()) not in ("rgb", "rgba", "all"):
        raise not_modelled(f"OCIOColorSpace on channels {node['channels'].value()!r}")
    out = image.copy()
    source = _ocio.canonical(_ocio.current(), str(node["in_colorspace"].value()))
    target = _ocio.canonical(_ocio.current(), str(node["out_colorspace"].value()))
    out[..., :3] = _ocio.convert(image[..., :3], source, target)
    return out


def expression(node: Node, image: Any) -> Any:
    """Expression: each non-empty exprN replaces channel N; only OR-ed channel comparisons are modelled."""
    np = _np()
    out = image.copy()
    for index in range(4):
        text = str(node[f"expr{index}"].value()).strip()
        if not text:
            continue
        result = np.zeros(image.shape[:2], bool)
        for part in text.split("||"):
            match = _COMPARISON.match(part)
            if match is None:
                raise not_modelled(f"expression {text!r} (only 'r<0 || g>1 || ...' is modelled)")
            channel, op, number = match.groups()
            values = image[..., "rgba".index(channel)]
            limit = float(number)
            result |= {"<": values < limit, ">": values > limit, "<=": values <= limit, ">=": values >= limit}[op]
        out[..., index] = result.astype(np.float32)
    return out


def render(node: Optional[Node], frame: int) -> Any:
    """The RGBA float image a node produces at a frame, in the working space."""
    from ._execute import read_image

    if node is None:
        raise RuntimeError("Write has no input connected")
    if node["disable"].value() if "disable" in node.knobs() else False:
        return render(node.input(0), frame) if node.maxInputs() else colour_source(node, frame)
    klass = node.Class()
    if klass == "Read":
        return read_image(node, frame)
    steps = {"Invert": invert, "OCIOColorSpace": ocio_colorspace, "Expression": expression}
    if klass in steps:
        return steps[klass](node, render(node.input(0), frame))
    if node.maxInputs() and node.input(0) is not None:
        return render(node.input(0), frame)
    return colour_source(node, frame)


# -------------------------------------------------------------------------------- file writing
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    import zlib

    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path: Path, image: Any, alpha: bool, sixteen: bool) -> None:
    """A PNG, 8 or 16 bits per channel, RGB or RGBA: values clamped to [0, 1] and rounded."""
    import zlib

    np = _np()
    channels = 4 if alpha else 3
    height, width = image.shape[:2]
    scale, dtype = (65535.0, ">u2") if sixteen else (255.0, "u1")
    ints = np.rint(np.clip(image[..., :channels], 0.0, 1.0) * scale).astype(dtype)
    rows = np.concatenate([np.zeros((height, 1), np.uint8), ints.reshape(height, -1).view(np.uint8)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 16 if sixteen else 8, 6 if alpha else 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
    data += _png_chunk(b"IDAT", zlib.compress(rows.tobytes())) + _png_chunk(b"IEND", b"")
    path.write_bytes(data)


def write_exr(path: Path, image: Any, alpha: bool, half: bool, compression: str) -> None:
    """An EXR: R, G, B (and A) as half or float, with Nuke's compression choice."""
    import OpenEXR

    np = _np()
    if compression not in _EXR_COMPRESSION:
        raise not_modelled(f"EXR compression {compression!r}")
    dtype = np.float16 if half else np.float32
    header = {"compression": getattr(OpenEXR, _EXR_COMPRESSION[compression]), "type": OpenEXR.scanlineimage}
    channels = {name: np.ascontiguousarray(image[..., i]).astype(dtype) for i, name in enumerate("RGBA"[:4 if alpha
                                                                                                            else 3])}
    with OpenEXR.File(header, channels) as exr:
        exr.write(str(path))
