"""An EXR's size and channel types read from its header in pure Python (core/exr_header.py)."""

from __future__ import annotations

from pathlib import Path

import numpy
import OpenEXR

from nuke_comfyui.core.exr_header import ExrHeader, read_exr_header


def test_size_and_pixel_types_from_a_real_exr(tmp_path: Path) -> None:
    path = tmp_path / "p.exr"
    channels = {"R": numpy.zeros((5, 7), numpy.float16), "G": numpy.zeros((5, 7), numpy.float32),
                "B": numpy.zeros((5, 7), numpy.float32)}
    with OpenEXR.File({"compression": OpenEXR.PIZ_COMPRESSION, "type": OpenEXR.scanlineimage,
                       "prompt": "x" * 5000}, channels) as exr:
        exr.write(str(path))
    header = read_exr_header(str(path))
    assert header == ExrHeader(7, 5, {"B": "float", "G": "float", "R": "half"}) and header.half


def test_not_an_exr(tmp_path: Path) -> None:
    (tmp_path / "x.exr").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    assert read_exr_header(str(tmp_path / "x.exr")) is None
    assert read_exr_header(str(tmp_path / "missing.exr")) is None
    (tmp_path / "cut.exr").write_bytes((20000630).to_bytes(4, "little") + b"\2\0\0\0dataWin")
    assert read_exr_header(str(tmp_path / "cut.exr")) is None
