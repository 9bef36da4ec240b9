"""Colour names resolved from a colourspace knob's listing, in Nuke's three item forms.

The listings here are written by hand in each form; the fake nuke's tests resolve the real
configs (nuke-default, ACES 1.2, fn-nuke cg-config, studio configs) through the fake's knobs.
"""

from __future__ import annotations

from nuke_comfyui.core.pixels import PlateEncoding, ResultColour
from nuke_comfyui.core.pixels.colour_names import ColourChoice, ColourSpaceListing, colour_names

#: Nuke 16/17 style (items as a third-party test measured them in Nuke 17: name TAB menu path
#: [TAB TAB aliases], roles as "role TAB role (space)")
CG_ITEMS = [
    "color_picking\tcolor_picking (sRGB - Texture)",
    "compositing_log\tcompositing_log (ACEScct)",
    "matte_paint\tmatte_paint (sRGB - Texture)",
    "scene_linear\tscene_linear (ACEScg)",
    "texture_paint\ttexture_paint (ACEScct)",
    "ACEScct\tColorspaces/ACES/ACEScct\t\tACES - ACEScct,acescct_ap1",
    "ACEScg\tColorspaces/ACES/ACEScg\t\tACES - ACEScg,lin_ap1",
    "Linear Rec.709 (sRGB)\tColorspaces/Utility/Linear Rec.709 (sRGB)\t\tlin_rec709_srgb,Utility - Linear - sRGB",
    "Linear Rec.2020\tColorspaces/Utility/Linear Rec.2020\t\tlin_rec2020",
    "sRGB - Texture\tColorspaces/Utility/sRGB - Texture\t\tsrgb_tx,Utility - sRGB - Texture",
    "Raw\tColorspaces/Utility/Raw\t\tUtility - Raw",
]
#: the legacy form: family/name (what nuke.getColorspaceList strips)
ACES12_LEGACY = ["default", "ACES/ACES - ACEScg", "ACES/ACES - ACEScct", "ACES/ACES - ACEScc",
                 "Input/ADX/Input - ADX - ADX10", "Output/Output - sRGB", "Utility/Utility - sRGB - Texture",
                 "Utility/Utility - Linear - sRGB", "Utility/Utility - Raw"]


def test_parse_the_tab_form_with_roles_and_aliases() -> None:
    listing = ColourSpaceListing.parse(CG_ITEMS)
    assert listing.names[:2] == ("ACEScct", "ACEScg") and "color_picking" not in listing.names
    assert listing.roles["scene_linear"] == "ACEScg" and listing.aliases["lin_ap1"] == "ACEScg"
    assert listing.canonical("Utility - sRGB - Texture") == "sRGB - Texture"
    assert listing.canonical("nope") is None


def test_cg_config_names() -> None:
    names = colour_names(ColourSpaceListing.parse(CG_ITEMS), working="ACEScg")
    assert names.srgb == ColourChoice("sRGB - Texture")  # from color_picking, an sRGB texture space
    assert names.log == ColourChoice("ACEScct")  # compositing_log keeps 222.9 > 64
    assert names.linear_rec709.name == "Linear Rec.709 (sRGB)" and names.linear_rec2020.name == "Linear Rec.2020"
    assert names.for_plate(PlateEncoding.LINEAR).raw and names.for_result(ResultColour.DATA).raw


def test_aces_12_legacy_form_skips_a_display_role_and_a_narrow_log() -> None:
    """ACES 1.2's roles (imageworks/OpenColorIO-Configs aces_1.2/config.ocio): color_picking is the
    display transform Output - sRGB, compositing_log is ADX10 (22.8 at code 1.0)."""
    listing = ColourSpaceListing.parse(ACES12_LEGACY)
    listing = ColourSpaceListing(listing.names, {}, {"color_picking": "Output - sRGB",
                                                     "compositing_log": "Input - ADX - ADX10",
                                                     "matte_paint": "Utility - sRGB - Texture"})
    names = colour_names(listing, working="ACES - ACEScg")
    assert names.srgb.name == "Utility - sRGB - Texture" and not names.srgb.note
    assert names.log.name == "ACES - ACEScct"
    assert "compositing_log 'Input - ADX - ADX10' keeps only up to 22.76" in names.log.note
    assert names.linear_rec709.name == "Utility - Linear - sRGB"


def test_a_studio_config_without_the_expected_names_falls_back_with_notes() -> None:
    listing = ColourSpaceListing.parse(["Studio/plate_log", "Studio/scene", "Studio/review"])
    names = colour_names(listing, working="scene", defaults={"int8": "review", "float": "scene"},
                         config="studio.ocio")
    assert names.srgb == ColourChoice("review", "the OCIO config studio.ocio has no sRGB texture space; assumed "
                                                "the project's default 'review'")
    assert names.log.raw and "has no log space; written and read raw" in names.log.note
    assert names.linear_rec709.name == "scene" and "linear Rec.709" in names.linear_rec709.note
