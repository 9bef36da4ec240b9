"""The script's names for each colour purpose, from its own OCIO config (never a constant).

The project settings' working-space knob (`workingSpaceLUT`) lists every space, alias and role
of the script's config in Nuke's own menu form; core (core/pixels/colour_names.py) resolves each
purpose from that listing, with the project's default LUTs (`int8Lut`, `logLut`, `floatLut`) as
the noted fallback. A script on Nuke's legacy colour management lists Nuke's native LUT names
the same way. Which config file the script uses (what a farm job carries) is
host/script_colour.py's `script_ocio_config`.
"""

from __future__ import annotations

from typing import Dict, List

import nuke

from nuke_comfyui.core.pixels.colour_names import ColourChoice, ColourNames, ColourSpaceListing, colour_names

#: the root knobs that list the config's spaces, first found (the working space knob, else a default LUT)
LISTING_KNOBS = ("workingSpaceLUT", "floatLut", "int8Lut")
LEGACY_NAMES = ("linear", "sRGB", "rec709", "Cineon", "raw")


def _knob_text(name: str) -> str:
    knob = nuke.root().knobs().get(name)
    return str(knob.value()).strip() if knob is not None else ""


def config_label() -> str:
    """The script's config as a note names it: its file (or ocio:// name), else the menu's choice."""
    from nuke_comfyui.core.errors import NukeComfyError
    from nuke_comfyui.host.script_colour import script_ocio_config

    try:
        found = script_ocio_config()
    except NukeComfyError:
        found = None
    return found or _knob_text("OCIO_config") or "nuke-default"


def listing() -> ColourSpaceListing:
    """Every space, alias and role the script's colourspace knobs accept."""
    root = nuke.root()
    for name in LISTING_KNOBS:
        knob = root.knobs().get(name)
        values = getattr(knob, "values", None)
        if values is not None:
            found = ColourSpaceListing.parse(values())
            if found.names:
                return found
    return ColourSpaceListing(LEGACY_NAMES)


def script_colour_names() -> ColourNames:
    """The script's names for sRGB texture, log, linear Rec.709/2020 (notes where assumed)."""
    found = listing()
    defaults: Dict[str, str] = {kind: _knob_text(knob) for kind, knob in
                                (("int8", "int8Lut"), ("log", "logLut"), ("float", "floatLut")) if _knob_text(knob)}
    knob = _knob_text("workingSpaceLUT")  # a stale value (the config changed under it) is not trusted
    working = knob if knob and found.canonical(knob) else (found.roles.get("scene_linear") or found.names[0])
    return colour_names(found, working=working, defaults=defaults, config=config_label())


def set_colour(node: nuke.Node, choice: ColourChoice) -> List[str]:
    """Set a Read's or Write's colour: the named space, or `raw` (no conversion). Returns notes.

    A name the config refuses (it changed since the names were resolved) leaves the node raw and
    says so: never a wrong space silently.
    """
    notes = [choice.note] if choice.note else []
    if choice.name is not None:
        try:
            node["colorspace"].setValue(choice.name)
            if bool(node["raw"].value()):
                node["raw"].setValue(False)
            return notes
        except ValueError:
            notes.append(f"{node.name()}: colorspace {choice.name!r} is not in this script's OCIO config; read raw")
    node["raw"].setValue(True)
    return notes
