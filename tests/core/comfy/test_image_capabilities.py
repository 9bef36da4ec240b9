"""Image capabilities from a server's version and its real `/object_info` (0.33 capture, 0.8 catalog)."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any, Dict

import pytest

from nuke_comfyui.core.comfy.image_capabilities import ImageCapabilities, image_capabilities, save_formats

#: GET /object_info of a real ComfyUI 0.33.0 (CPU, API nodes loaded), recorded by the lead
CAPTURE_033 = Path("/work/shared/comfyui-0.33-captures/object_info.json.gz")
#: the simulator's catalog: real ComfyUI 0.8 object_info records
CATALOG_08 = Path(__file__).parents[3] / "nuke_comfyui/sim/data/object_info.json"


@pytest.fixture(scope="module")
def info_033() -> Dict[str, Any]:
    if not CAPTURE_033.is_file():
        pytest.skip(f"{CAPTURE_033} is not on this machine")
    with gzip.open(CAPTURE_033, "rt", encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def test_real_033_offers_exr_and_png16(info_033: Dict[str, Any]) -> None:
    formats = save_formats(info_033)
    assert formats == {"png": {"bit_depth": ("8-bit", "16-bit"), "input_color_space": ("sRGB",)},
                       "exr": {"bit_depth": ("32-bit float",), "input_color_space": ("sRGB", "HDR", "linear")}}
    caps = image_capabilities("0.33.0", info_033)
    assert (caps.known, caps.exr_load, caps.save_exr, caps.save_png16) == (True, True, True, True)
    assert caps.exr_color_spaces == ("sRGB", "HDR", "linear")
    assert caps.summary() == "EXR in, EXR/PNG16 out"
    assert caps.float_width_multiple == 32 and caps.loads_float_width(1920) and not caps.loads_float_width(1998)


def test_real_08_has_neither() -> None:
    info = json.loads(CATALOG_08.read_text(encoding="utf-8"))
    caps = image_capabilities("0.8.0", info)
    assert caps == ImageCapabilities(version="0.8.0", known=True)
    assert caps.summary() == "8-bit PNG"


@pytest.mark.parametrize("version, exr_load, multiple", [
    ("0.20.1", False, 1), ("0.21.0", True, 1), ("v0.24.0", True, 1), ("0.25.0", True, 32), ("0.33.0", True, 32),
    ("0.3.68", False, 1), (None, False, 1), ("weird", False, 1)])
def test_pyav_loading_follows_the_release(version: Any, exr_load: bool, multiple: int) -> None:
    caps = image_capabilities(version, {})
    assert caps.exr_load is exr_load and caps.float_width_multiple == multiple
    assert not caps.save_exr  # the saver is read from /object_info, never assumed from the version


def test_save_image_advanced_implies_pyav_loading_whatever_the_version(info_033: Dict[str, Any]) -> None:
    """A dev build reporting an older release but listing SaveImageAdvanced is 0.23 code or newer."""
    caps = image_capabilities("0.20.0", {"SaveImageAdvanced": info_033["SaveImageAdvanced"]})
    assert caps.exr_load and caps.save_exr


def test_a_fork_without_exr_option(info_033: Dict[str, Any]) -> None:
    """Only what the server lists counts: a SaveImageAdvanced without the exr option saves no EXR."""
    entry = copy.deepcopy(info_033["SaveImageAdvanced"])
    options = entry["input"]["required"]["format"][1]["options"]
    entry["input"]["required"]["format"][1]["options"] = [o for o in options if o["key"] != "exr"]
    caps = image_capabilities("0.33.0", {"SaveImageAdvanced": entry})
    assert caps.save_png16 and not caps.save_exr and caps.summary() == "EXR in, PNG16 out"


def test_nothing_known_before_any_answer() -> None:
    caps = image_capabilities(None, None)
    assert not caps.known and caps.summary() == "unknown"
    assert save_formats({"SaveImageAdvanced": {"input": "garbage"}}) == {}
