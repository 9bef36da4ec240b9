"""`PixelBlender`: a seam frame as the weighted sum of its chunks' renders, in float.

Formats, by what the renders are (every render of one frame must share format, size, channels
and bit depth, else the blend is refused by name):

- PNG 8-bit (and JPEG, WebP, TIFF 8-bit) through Pillow; PNG 16-bit through PyAV (Pillow reads
  16-bit RGB PNG as 8-bit), as ComfyUI itself decodes images;
- EXR through OpenEXR, every channel in float32, written back with each channel's own pixel type.

Integer formats are read as value / max (255 or 65535), blended in float64, and written as
round(value * max) clipped to the range: a blend of identical renders returns them unchanged,
bit for bit. The result depends only on the renders and the weights, never on their order of
arrival or the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Sequence, Tuple

from nuke_comfyui.core.seams import SeamBlendError

INSTALL = "pip install 'nuke-comfyui[blend]' (for Nuke's own Python see docs/TEMPORAL.md)"
_PILLOW_EXTS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")


def _need(module: str, why: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".", maxsplit=1)[0]
        raise SeamBlendError(f"blending seam frames ({why}) needs the Python package {package}, which this "
                             f"Python lacks; {INSTALL}, or render with seam 'cut'") from None


@dataclass
class _Image:
    """One render: float pixels plus what is needed to write a result of the same kind."""

    pixels: Any  # numpy float64 array (h, w, c) for integer formats, dict name -> float32 for EXR
    kind: str  # "pillow", "png16", "exr"
    detail: Any  # Pillow mode / PyAV pixel format / EXR header and channel types
    shape: Tuple[int, ...]


class PixelBlender:
    """The scheduler's seam blender (core/seams.Blender)."""

    def check(self) -> None:
        _need("numpy", "float pixels")
        _need("PIL.Image", "8-bit images")

    def blend(self, sources: Sequence[Tuple[str, float]], target: str) -> None:
        np = _need("numpy", "float pixels")
        images = [_read(Path(path)) for path, _ in sources]
        first = images[0]
        for (path, _), image in zip(sources[1:], images[1:]):
            if (image.kind, image.shape, _signature(image)) != (first.kind, first.shape, _signature(first)):
                raise SeamBlendError(f"cannot blend {Path(sources[0][0]).name} with {Path(path).name}: the chunks "
                                     "came back in different formats, sizes or channels; render the shot on "
                                     "servers that save alike")
        if first.kind == "exr":
            names = list(first.pixels)
            total = {n: sum(np.asarray(img.pixels[n], dtype=np.float64) * w for img, (_, w) in zip(images, sources))
                     for n in names}
            _write_exr(Path(target), total, first.detail)
            return
        total = sum(img.pixels * w for img, (_, w) in zip(images, sources))
        if first.kind == "png16":
            _write_png16(Path(target), total, first.detail)
        else:
            _write_pillow(Path(target), total)


def _signature(image: _Image) -> Any:
    if image.kind == "exr":
        return tuple(sorted((name, kind, tuple(image.pixels[name].shape)) for name, kind in image.detail[1].items()))
    return image.detail


def _read(path: Path) -> _Image:
    ext = path.suffix.lower()
    if ext == ".exr":
        return _read_exr(path)
    if ext == ".png" and _png_bit_depth(path) == 16:
        return _read_png16(path)
    if ext in _PILLOW_EXTS:
        return _read_pillow(path)
    raise SeamBlendError(f"cannot blend {path.name}: seam frames can be PNG, JPEG, WebP, TIFF or EXR, not {ext}")


def _png_bit_depth(path: Path) -> int:
    with path.open("rb") as fh:
        head = fh.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n":
        raise SeamBlendError(f"{path.name} is not a PNG file; the server sent something else")
    return head[24]


def _read_pillow(path: Path) -> _Image:
    np = _need("numpy", "float pixels")
    image_module = _need("PIL.Image", "8-bit images")
    with image_module.open(path) as img:
        img.load()
        mode = img.mode if img.mode in ("RGB", "RGBA", "L", "LA") else "RGB"
        data = np.asarray(img.convert(mode), dtype=np.float64) / 255.0
    if data.ndim == 2:
        data = data[:, :, None]
    return _Image(data, "pillow", (mode, path.suffix.lower()), data.shape)


def _write_pillow(path: Path, pixels: Any) -> None:
    np = _need("numpy", "float pixels")
    image_module = _need("PIL.Image", "8-bit images")
    values = np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)
    if values.shape[2] == 1:
        values = values[:, :, 0]
    image = image_module.fromarray(values)  # uint8 with 1, 2, 3 or 4 channels: L, LA, RGB, RGBA, as read
    options: Dict[str, Any] = {"quality": 95} if path.suffix.lower() in (".jpg", ".jpeg", ".webp") else {}
    image.save(path, format=_pillow_format(path), **options)


def _pillow_format(path: Path) -> str:
    return {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}[
        path.suffix.lower()] if path.suffix.lower() in _PILLOW_EXTS else "PNG"


_PNG16_FORMATS = {"rgb48be": "rgb48le", "rgba64be": "rgba64le", "gray16be": "gray16le", "ya16be": "ya16le"}


def _read_png16(path: Path) -> _Image:
    np = _need("numpy", "float pixels")
    av = _need("av", "16-bit PNG")
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        source = frame.format.name
        wanted = _PNG16_FORMATS.get(source, "rgba64le" if "a" in source else "rgb48le")
        data = np.asarray(frame.to_ndarray(format=wanted), dtype=np.float64) / 65535.0
    if data.ndim == 2:
        data = data[:, :, None]
    return _Image(data, "png16", wanted, data.shape)


def _write_png16(path: Path, pixels: Any, pixel_format: str) -> None:
    np = _need("numpy", "float pixels")
    av = _need("av", "16-bit PNG")
    values = np.clip(np.rint(pixels * 65535.0), 0, 65535).astype(np.uint16)
    if values.shape[2] == 1:
        values = values[:, :, 0]
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(values), format=pixel_format)
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height = frame.width, frame.height
    codec.pix_fmt = pixel_format.replace("le", "be")
    packets = codec.encode(frame.reformat(format=codec.pix_fmt)) + codec.encode(None)
    path.write_bytes(b"".join(bytes(packet) for packet in packets))


def _read_exr(path: Path) -> _Image:
    np = _need("numpy", "float pixels")
    openexr = _need("OpenEXR", "EXR images")
    with openexr.File(str(path)) as exr:
        header = dict(exr.header())
        channels = exr.channels()
        pixels = {name: np.asarray(channel.pixels, dtype=np.float32) for name, channel in channels.items()}
        types = {name: str(channel.pixels.dtype) for name, channel in channels.items()}
    shape = next(iter(pixels.values())).shape if pixels else ()
    return _Image(pixels, "exr", (header, types), tuple(shape))


def _write_exr(path: Path, pixels: Dict[str, Any], detail: Tuple[Dict[str, Any], Dict[str, str]]) -> None:
    np = _need("numpy", "float pixels")
    openexr = _need("OpenEXR", "EXR images")
    header, types = detail
    keep = {key: value for key, value in header.items() if key in ("compression", "pixelAspectRatio", "lineOrder")}
    channels = {name: np.ascontiguousarray(value.astype(types[name])) for name, value in pixels.items()}
    with openexr.File(keep, channels) as exr:
        exr.write(str(path))

