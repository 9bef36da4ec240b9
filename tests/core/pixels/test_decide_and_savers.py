"""Pixel decisions: plate and results fitted to a mixed farm, the SaveImage rewrite, per-job fitting."""

from __future__ import annotations

import copy
from typing import Any, Dict

import pytest

from nuke_comfyui.core.comfy.image_capabilities import ImageCapabilities
from nuke_comfyui.core.pixels import PixelRequest, PlateEncoding, PlateFormat, ResultFormat, ServerImages, decide
from nuke_comfyui.core.pixels.choices import PixelChoiceError
from nuke_comfyui.core.pixels.savers import ResultColour, SaveTarget, exr_color_space, result_colour, rewrite_savers
from nuke_comfyui.core.pixels.server_fit import PlateNotLoadable, fit_to_server

NEW = ImageCapabilities(version="0.33.0", known=True, exr_load=True, save_exr=True, save_png16=True,
                        exr_color_spaces=("sRGB", "HDR", "linear"), float_width_multiple=32)
LOADS_ONLY = ImageCapabilities(version="0.21.1", known=True, exr_load=True)
OLD = ImageCapabilities(version="0.8.2", known=True)
UNKNOWN = ImageCapabilities()
FLOW: Dict[str, Any] = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "plate.exr"}},
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "out"}, "_meta": {"title": "x"}},
    "4": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
}


def farm(**servers: ImageCapabilities) -> list:
    return [ServerImages(name, caps) for name, caps in servers.items()]


def test_a_new_farm_gets_float_both_ways() -> None:
    decision = decide(encoding=PlateEncoding.SRGB, plate=PlateFormat.EXR_HALF, results=ResultFormat.AUTO,
                      servers=farm(gpu1=NEW, gpu2=NEW))
    assert decision.plate is PlateFormat.EXR_HALF and not decision.losses
    assert decision.save == SaveTarget("exr", "32-bit float", "sRGB")


def test_one_old_server_forces_png_and_is_named_with_its_release() -> None:
    decision = decide(encoding=PlateEncoding.LOG, plate=PlateFormat.EXR_HALF, results=ResultFormat.AUTO,
                      servers=farm(gpu1=NEW, gpu3=OLD))
    assert decision.plate is PlateFormat.PNG8 and decision.save is None
    assert len(decision.losses) == 1
    assert decision.losses[0].startswith("gpu3 (ComfyUI 0.8.2): cannot load EXR (ComfyUI 0.21+ can)")
    assert "only servers" in decision.losses[0]


def test_exr_results_asked_from_an_8bit_plate_on_a_server_without_the_saver() -> None:
    decision = decide(encoding=PlateEncoding.SRGB, plate=PlateFormat.PNG8, results=ResultFormat.EXR,
                      servers=farm(gpu1=NEW, gpu2=LOADS_ONLY))
    assert decision.plate is PlateFormat.PNG8 and decision.save is None
    assert decision.losses == ("gpu2 (ComfyUI 0.21.1): no SaveImageAdvanced 32-bit float EXR (ComfyUI 0.23+ has it), "
                               "so results are saved as the workflow saves them (8-bit PNG) on every server; leave it "
                               "out with 'only servers' to get 32-bit float EXR",)


def test_unknown_servers_are_not_counted_and_png_results_say_nothing() -> None:
    decision = decide(encoding=PlateEncoding.LINEAR, plate=PlateFormat.EXR_FLOAT, results=ResultFormat.PNG,
                      servers=farm(gpu1=NEW, gpu9=UNKNOWN))
    assert decision.plate is PlateFormat.EXR_FLOAT and decision.save is None and not decision.losses
    png16 = decide(encoding=PlateEncoding.LINEAR, plate=PlateFormat.PNG8, results=ResultFormat.PNG16,
                   servers=farm(gpu1=NEW))
    assert png16.save == SaveTarget("png", "16-bit", "sRGB")


def test_with_no_server_known_yet_the_8bit_path_is_taken_and_said() -> None:
    decision = decide(encoding=PlateEncoding.SRGB, plate=PlateFormat.EXR_HALF, results=ResultFormat.AUTO,
                      servers=farm(gpu9=UNKNOWN))
    assert decision.plate is PlateFormat.PNG8 and decision.save is None
    assert decision.losses[0].startswith("no server has said what it can load and save yet")
    exr = decide(encoding=PlateEncoding.SRGB, plate=PlateFormat.PNG8, results=ResultFormat.EXR, servers=[])
    assert exr.save is None and "not 32-bit float EXR" in exr.losses[0]


def test_an_unaligned_width_sends_png_to_a_farm_with_025_plus_servers() -> None:
    """Measured on a real 0.33: a float image not a multiple of 32 px wide fails to load (0.25+)."""
    aligned = ImageCapabilities(version="0.24.0", known=True, exr_load=True, save_exr=True)
    decision = decide(encoding=PlateEncoding.SRGB, plate=PlateFormat.EXR_FLOAT, results=ResultFormat.AUTO,
                      servers=farm(gpu1=NEW, gpu2=aligned), plate_width=1998)
    assert NEW.float_width_multiple == 32 and aligned.float_width_multiple == 1
    assert decision.plate is PlateFormat.PNG8
    assert decision.losses[0].startswith("gpu1 (ComfyUI 0.33.0): cannot load a float image 1998 px wide")
    assert "reformat to 2016 px wide" in decision.losses[0]
    assert decide(encoding=PlateEncoding.SRGB, plate=PlateFormat.EXR_FLOAT, results=ResultFormat.AUTO,
                  servers=farm(gpu1=NEW), plate_width=2048).plate is PlateFormat.EXR_FLOAT
    with pytest.raises(PlateNotLoadable, match="1998 px wide"):
        fit_to_server(copy.deepcopy(FLOW), PixelRequest(plate="exr-float", results="png", width=1998), "gpu1", NEW)


def test_an_exr_file_leaves_old_servers_out() -> None:
    decision = decide(encoding=PlateEncoding.LINEAR, plate=PlateFormat.EXR_FILE, results=ResultFormat.AUTO,
                      servers=farm(gpu1=NEW, gpu3=OLD))
    assert decision.left_out == ("gpu3",)
    assert decision.save == SaveTarget("exr", "32-bit float", "linear")  # gpu1 alone decides the results
    assert "gpu3 (ComfyUI 0.8.2): cannot load EXR" in decision.losses[0]


def test_a_workflow_without_save_image_gets_no_result_notes() -> None:
    decision = decide(encoding=PlateEncoding.SRGB, plate=PlateFormat.EXR_HALF, results=ResultFormat.EXR,
                      servers=farm(gpu1=LOADS_ONLY), saves_with_save_image=False)
    assert decision.save is None and not decision.losses


def test_rewrite_keeps_the_link_and_prefix_and_uses_flat_dynamic_combo_keys() -> None:
    prompt = copy.deepcopy(FLOW)
    assert rewrite_savers(prompt, SaveTarget("exr", "32-bit float", "linear")) == ["3"]
    assert prompt["3"] == {"class_type": "SaveImageAdvanced", "_meta": {"title": "x"},
                           "inputs": {"images": ["2", 0], "filename_prefix": "out", "format": "exr",
                                      "format.bit_depth": "32-bit float", "format.input_color_space": "linear"}}
    assert prompt["4"]["class_type"] == "PreviewImage"
    assert exr_color_space(prompt["3"], None) == "linear"
    assert exr_color_space(FLOW["3"], SaveTarget("exr", "32-bit float", "sRGB")) == "sRGB"


@pytest.mark.parametrize("encoding, ext, saved, meaning", [
    (PlateEncoding.SRGB, ".png", None, ResultColour.SRGB),
    (PlateEncoding.SRGB, ".exr", "sRGB", ResultColour.LINEAR_REC709),
    (PlateEncoding.SRGB, ".exr", "linear", ResultColour.SRGB),
    (PlateEncoding.LOG, ".exr", "linear", ResultColour.LOG),
    (PlateEncoding.LOG, ".PNG", None, ResultColour.LOG),
    (PlateEncoding.LINEAR, ".exr", None, ResultColour.DATA),
    (PlateEncoding.LINEAR, ".exr", "HDR", ResultColour.LINEAR_REC2020),
    (PlateEncoding.SRGB, ".mp4", None, None),
])
def test_what_a_result_file_means(encoding: PlateEncoding, ext: str, saved: Any, meaning: Any) -> None:
    assert result_colour(encoding, ext, saved) is meaning


def test_per_job_fit_rewrites_on_capable_servers_and_falls_back_on_old_ones() -> None:
    pixels = PixelRequest(encoding="srgb", plate="png", results="exr")
    prompt = copy.deepcopy(FLOW)
    assert fit_to_server(prompt, pixels, "gpu1", NEW, "frame 1001") == []
    assert prompt["3"]["class_type"] == "SaveImageAdvanced"
    prompt = copy.deepcopy(FLOW)
    notes = fit_to_server(prompt, pixels, "gpu3", OLD, "frame 1012")
    assert notes == ["frame 1012 on gpu3 (ComfyUI 0.8.2): 8-bit PNG result, not 32-bit float EXR "
                     "(no SaveImageAdvanced there)"]
    assert prompt["3"]["class_type"] == "SaveImage"
    prompt = copy.deepcopy(FLOW)
    assert fit_to_server(prompt, pixels, "gpu9", UNKNOWN) == [] and prompt["3"]["class_type"] == "SaveImageAdvanced"


def test_per_job_fit_refuses_a_float_plate_on_a_server_that_cannot_load_it() -> None:
    pixels = PixelRequest(encoding="linear", plate="exr-half", results="png")
    with pytest.raises(PlateNotLoadable, match=r"frame 1012: gpu3 \(ComfyUI 0.8.2\) cannot load EXR plates"):
        fit_to_server(copy.deepcopy(FLOW), pixels, "gpu3", OLD, "frame 1012")
    assert fit_to_server(copy.deepcopy(FLOW), pixels, "gpu2", LOADS_ONLY) == []


def test_pixel_request_round_trips_and_refuses_unknown_values() -> None:
    request = PixelRequest(encoding="log", plate="exr-float", results="png16", notes=["12 pixels clipped"], width=2048)
    assert PixelRequest.from_dict(request.to_dict()) == request
    assert PixelRequest.from_dict(None) == PixelRequest()
    with pytest.raises(PixelChoiceError, match="plate encoding 'gamma' is unknown; use one of srgb, log, linear"):
        PixelRequest.from_dict({"encoding": "gamma"})
    with pytest.raises(PixelChoiceError, match="unknown fields"):
        PixelRequest.from_dict({"encoding": "srgb", "dither": True})
