"""The seam blender's pixels: weighted sums in float for every format a ComfyUI save gives back."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import OpenEXR
import pytest
from PIL import Image

from nuke_comfyui.blend import PixelBlender
from nuke_comfyui.core.seams import SeamBlendError

W_A, W_B = 2 / 3, 1 / 3


def png16(path: Path, pixels: np.ndarray) -> None:
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb48le")
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = frame.width, frame.height, "rgb48be"
    path.write_bytes(b"".join(bytes(p) for p in codec.encode(frame.reformat(format="rgb48be")) + codec.encode(None)))


def read16(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb48le")


@pytest.mark.parametrize("channels", ["RGB", "RGBA", "L"])
def test_8_bit_images_blend_in_float_and_round_once(tmp_path: Path, channels: str) -> None:
    rng = np.random.default_rng(1)
    shape = (5, 7) if channels == "L" else (5, 7, len(channels))
    a, b = (rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(2))
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(b).save(tmp_path / "b.png")
    PixelBlender().blend([(str(tmp_path / "a.png"), W_A), (str(tmp_path / "b.png"), W_B)], str(tmp_path / "o.png"))
    with Image.open(tmp_path / "o.png") as out:
        assert out.mode == channels
        got = np.asarray(out)
    expected = np.clip(np.rint((a / 255.0 * W_A + b / 255.0 * W_B) * 255.0), 0, 255)
    assert np.array_equal(got, expected)


def test_identical_renders_blend_to_themselves_bit_for_bit(tmp_path: Path) -> None:
    pixels = np.random.default_rng(2).integers(0, 65536, (4, 6, 3), dtype=np.uint16)
    png16(tmp_path / "a.png", pixels)
    png16(tmp_path / "b.png", pixels)
    PixelBlender().blend([(str(tmp_path / "a.png"), W_A), (str(tmp_path / "b.png"), W_B)], str(tmp_path / "o.png"))
    assert np.array_equal(read16(tmp_path / "o.png"), pixels)


def test_16_bit_png_keeps_16_bits(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    a, b = (rng.integers(0, 65536, (4, 6, 3), dtype=np.uint16) for _ in range(2))
    png16(tmp_path / "a.png", a)
    png16(tmp_path / "b.png", b)
    PixelBlender().blend([(str(tmp_path / "a.png"), W_A), (str(tmp_path / "b.png"), W_B)], str(tmp_path / "o.png"))
    expected = np.clip(np.rint((a / 65535.0 * W_A + b / 65535.0 * W_B) * 65535.0), 0, 65535)
    assert np.array_equal(read16(tmp_path / "o.png"), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_exr_channels_blend_in_float_and_keep_their_pixel_type(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(4)
    a, b = (rng.uniform(-0.5, 8.0, (4, 6, 3)).astype(dtype) for _ in range(2))  # HDR and negative values kept
    for name, pixels in (("a", a), ("b", b)):
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"RGB": pixels}) as exr:
            exr.write(str(tmp_path / f"{name}.exr"))
    PixelBlender().blend([(str(tmp_path / "a.exr"), W_A), (str(tmp_path / "b.exr"), W_B)], str(tmp_path / "o.exr"))
    with OpenEXR.File(str(tmp_path / "o.exr")) as exr:
        got = exr.channels()["RGB"].pixels
    assert got.dtype == dtype
    expected = (a.astype(np.float64) * W_A + b.astype(np.float64) * W_B).astype(dtype)
    assert np.array_equal(got, expected)


def test_renders_that_differ_in_size_or_format_are_refused_by_name(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    Image.new("RGB", (5, 4)).save(tmp_path / "b.png")
    with pytest.raises(SeamBlendError, match=r"cannot blend a\.png with b\.png: the chunks came back in different"):
        PixelBlender().blend([(str(tmp_path / "a.png"), 0.5), (str(tmp_path / "b.png"), 0.5)], str(tmp_path / "o.png"))
    (tmp_path / "c.png").write_bytes(b"not a png at all, but named like one")
    with pytest.raises(SeamBlendError, match=r"c\.png is not a PNG file"):
        PixelBlender().blend([(str(tmp_path / "c.png"), 1.0)], str(tmp_path / "o.png"))
