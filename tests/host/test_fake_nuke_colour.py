"""The fake's colour management and float files follow Nuke and OCIO: each test names its source.

Configs: nuke-default and a trimmed ACES 1.2 (test data with their sources in their headers),
Nuke 15/16's fn-nuke cg-config (OCIO's built-in cg-config-v1.0.0 it is built on), OCIO's studio
config through a custom path, and a studio config with none of the usual names.
"""

from __future__ import annotations

from pathlib import Path

import nuke
import numpy
import OpenEXR
import pytest
from PIL import Image

CONFIGS = Path(__file__).parent / "fake_nuke" / "configs"
CG = "fn-nuke_cg-config-v1.0.0_aces-v1.3_ocio-v2.1"


def use_config(name: str, custom: str = "") -> None:
    root = nuke.root()
    if custom:
        root["customOCIOConfigPath"].setValue(custom)
    root["OCIO_config"].setValue(name)


def names(knob: nuke.Knob) -> list:
    return [item.split("\t")[0] for item in knob.values()]


def test_nuke_default_is_the_fakes_new_script_config() -> None:
    """Foundry, "OCIO Color Management": nuke-default leaves color management on Nuke; its default
    LUTs are linear (working, float), sRGB (monitor, 8 and 16 bit), Cineon (log)."""
    root = nuke.root()
    assert root["OCIO_config"].value() == "nuke-default" and root["colorManagement"].value() == "Nuke"
    assert [root[k].value() for k in ("workingSpaceLUT", "monitorLut", "int8Lut", "int16Lut", "logLut",
                                      "floatLut")] == ["linear", "sRGB", "sRGB", "sRGB", "Cineon", "linear"]
    write = nuke.nodes.Write()
    assert write["colorspace"].value() == "default"
    assert {"linear", "sRGB", "Cineon", "Log3G10", "raw"} <= set(nuke.getColorspaceList(write["colorspace"]))


@pytest.mark.parametrize("config, custom, working, int8, srgb_names", [
    ("aces_1.2", "", "ACES - ACEScg", "Utility - sRGB - Texture", {"Utility - sRGB - Texture"}),
    (CG, "", "ACEScg", "sRGB - Texture", {"sRGB - Texture", "srgb_tx", "Utility - sRGB - Texture"}),
    ("custom", "ocio://studio-config-v1.0.0_aces-v1.3_ocio-v2.1", "ACEScg", "sRGB - Texture", {"sRGB - Texture"}),
    ("custom", str(CONFIGS / "studio-unnamed" / "config.ocio"), "scene", "scene", set()),
])
def test_choosing_a_config_switches_to_ocio_and_refreshes_the_defaults(config: str, custom: str, working: str,
                                                                         int8: str, srgb_names: set) -> None:
    """Foundry, "OCIO Color Management": every config but nuke-default switches color management to
    OCIO, and changing the config updates the default LUTs (Nuke takes them from the config's roles)."""
    use_config(config, custom)
    root = nuke.root()
    assert root["colorManagement"].value() == "OCIO"
    assert root["workingSpaceLUT"].value() == working and root["int8Lut"].value() == int8
    read = nuke.nodes.Read()
    for name in srgb_names:  # by name or by alias
        read["colorspace"].setValue(name)
    with pytest.raises(ValueError, match="not a colorspace of the OCIO config"):
        read["colorspace"].setValue("sRGB - Texture (typo)")


def test_menu_items_carry_families_aliases_and_roles() -> None:
    """A colourspace knob's items as a public test measured them in Nuke 17 (name TAB menu path
    [TAB TAB aliases], roles as "role TAB role (space)"); Foundry's getColorspaceList strips each
    item at its last '/' when the knob has STRIP_CASCADE_PREFIX."""
    use_config(CG)
    knob = nuke.nodes.Write()["colorspace"]
    items = knob.values()
    assert "scene_linear\tscene_linear (ACEScg)" in items
    assert "ACEScg\tColorspaces/ACES/ACEScg\t\tACES - ACEScg,lin_ap1" in items
    assert knob.getFlag(nuke.STRIP_CASCADE_PREFIX)
    assert "ACEScg\t\tACES - ACEScg,lin_ap1" in nuke.getColorspaceList(knob)
    knob.setValue("scene_linear")  # a role is a valid value
    assert knob.value() == "scene_linear"


def _exr(path: Path) -> dict:
    with OpenEXR.File(str(path), separate_channels=True) as exr:
        return {name: (channel.pixels.dtype, channel.pixels) for name, channel in exr.channels().items()}


def test_write_exr_half_and_float_through_the_config(tmp_path: Path) -> None:
    """Write reference: EXR datatype "16 bit half" / "32 bit float", channels rgb/rgba; a file's
    colorspace converts from the working space (OCIO's numbers); alpha is never converted."""
    source = tmp_path / "src.png"
    Image.new("RGBA", (3, 2), (188, 64, 255, 128)).save(source)
    read = nuke.nodes.Read(file=str(source))
    write = nuke.nodes.Write(file=str(tmp_path / "out.%04d.exr"), file_type="exr")
    write["channels"].setValue("rgba")
    write.setInput(0, read)
    assert write["datatype"].value() == "16 bit half"
    nuke.execute(write, 1, 1)
    half = _exr(tmp_path / "out.0001.exr")
    assert half["R"][0] == numpy.float16 and half["A"][1][0, 0] == numpy.float16(128 / 255)
    srgb = numpy.array([188, 64, 255]) / 255.0
    linear = numpy.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    assert abs(float(half["R"][1][0, 0]) - linear[0]) < 1e-3  # half precision
    write["datatype"].setValue("32 bit float")
    write["colorspace"].setValue("sRGB")  # the file holds sRGB-encoded floats now
    nuke.execute(write, 2, 2)
    full = _exr(tmp_path / "out.0002.exr")
    assert full["G"][0] == numpy.float32 and abs(float(full["G"][1][0, 0]) - 64 / 255) < 1e-6


def test_read_exr_keeps_values_above_one_and_16bit_png(tmp_path: Path) -> None:
    """Read reference: a float file is read through floatLut (linear here), no clamp; a 16-bit PNG
    through int16Lut."""
    pixels = {name: numpy.full((2, 2), value, numpy.float32) for name, value in zip("RGB", (64.0, 0.5, -0.25))}
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, pixels) as exr:
        exr.write(str(tmp_path / "hdr.exr"))
    read = nuke.nodes.Read(file=str(tmp_path / "hdr.exr"))
    write = nuke.nodes.Write(file=str(tmp_path / "copy.exr"), file_type="exr")
    write["datatype"].setValue("32 bit float")
    write.setInput(0, read)
    nuke.execute(write, 1, 1)
    copied = _exr(tmp_path / "copy.exr")
    assert (float(copied["R"][1][0, 0]), float(copied["B"][1][0, 0])) == (64.0, -0.25)
    png16 = nuke.nodes.Write(file=str(tmp_path / "p16.png"), file_type="png")
    png16["datatype"].setValue("16 bit")
    png16["raw"].setValue(True)
    png16.setInput(0, read)
    nuke.execute(png16, 1, 1)
    back = nuke.nodes.Read(file=str(tmp_path / "p16.png"))
    back["raw"].setValue(True)
    check = nuke.nodes.Write(file=str(tmp_path / "check.exr"), file_type="exr")
    check["datatype"].setValue("32 bit float")
    check.setInput(0, back)
    nuke.execute(check, 1, 1)
    values = _exr(tmp_path / "check.exr")
    assert float(values["R"][1][0, 0]) == 1.0  # clamped: an integer file holds [0, 1]
    assert float(values["G"][1][0, 0]) == numpy.float32(round(0.5 * 65535) / 65535)


def test_converting_with_a_space_the_test_data_leaves_out_is_refused(tmp_path: Path) -> None:
    """The fake's nuke-default keeps SLog3's LUT out: converting with it raises, never guesses."""
    write = nuke.nodes.Write(file=str(tmp_path / "x.png"), file_type="png")
    write["colorspace"].setValue("SLog3")
    write.setInput(0, nuke.nodes.Constant())
    with pytest.raises(RuntimeError, match="not modelled"):
        nuke.execute(write, 1, 1)


def test_ocio_colorspace_expression_and_curve_tool_count_clipped_pixels(tmp_path: Path) -> None:
    """OCIOColorSpace (in_colorspace/out_colorspace), Expression (expr0, comparisons give 1/0, ||),
    CurveTool "Avg Intensities" over ROI keyed into intensitydata, read with getValueAt(frame)."""
    pixels = {"R": numpy.array([[0.5, 2.0], [0.25, 0.1]], numpy.float32),
              "G": numpy.array([[0.5, 0.5], [-0.1, 0.1]], numpy.float32),
              "B": numpy.full((2, 2), 0.5, numpy.float32)}
    with OpenEXR.File({"compression": OpenEXR.NO_COMPRESSION, "type": OpenEXR.scanlineimage}, pixels) as exr:
        exr.write(str(tmp_path / "p.exr"))
    read = nuke.nodes.Read(file=str(tmp_path / "p.exr"))
    to_srgb = nuke.nodes.OCIOColorSpace()
    to_srgb["in_colorspace"].setValue("linear")
    to_srgb["out_colorspace"].setValue("sRGB")
    to_srgb.setInput(0, read)
    flag = nuke.nodes.Expression()
    flag["expr0"].setValue("r<0 || r>1 || g<0 || g>1 || b<0 || b>1")
    flag.setInput(0, to_srgb)
    curve = nuke.nodes.CurveTool()
    curve["ROI"].fromDict({"x": 0, "y": 0, "r": 2, "t": 2})
    curve.setInput(0, flag)
    nuke.execute(curve, 1, 1)
    assert curve["intensitydata"].getValueAt(1)[0] == 0.5  # 2 of 4 pixels leave [0, 1] after the transform
    flag["expr0"].setValue("r*2")
    with pytest.raises(RuntimeError, match="not modelled"):
        nuke.execute(curve, 1, 1)
