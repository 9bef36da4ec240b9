"""The script's colour management as plain data: its OCIO config and its names for each purpose.

Nothing here hard-codes a colour-space name. The project settings' working-space knob
(`workingSpaceLUT`) lists every space, alias and role of the script's config in Nuke's own menu
form; core (core/pixels/colour_names.py) resolves each purpose from that listing, with the
project's default LUTs (`int8Lut`, `logLut`, `floatLut`) as the noted fallback. A script on Nuke's
legacy colour management lists Nuke's native LUT names the same way.

Which config the script uses (`script_ocio_config`) is what a farm job needs to carry with it:
- `OCIO_config` "custom": the file in `customOCIOConfigPath` (TCL-evaluated);
- the `OCIO` environment variable, when set, overrides the project's choice in Nuke;
- a config shipped with Nuke (nuke-default, aces_1.2, fn-nuke_cg-config-...): found under the
  install's `plugins/OCIOConfigs/configs/<name>/config.ocio` when that file exists; else only its
  name is known (a worker with the same Nuke release has it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Optional

import nuke

from nuke_comfyui.core.pixels.colour_names import ColourChoice, ColourNames, ColourSpaceListing, colour_names

#: the root knobs that list the config's spaces, first found (the working space knob, else a default LUT)
LISTING_KNOBS = ("workingSpaceLUT", "floatLut", "int8Lut")
LEGACY_NAMES = ("linear", "sRGB", "rec709", "Cineon", "raw")


@dataclass(frozen=True)
class OcioConfig:
    """Where the script's colour config comes from (for farm jobs and the node's notes)."""

    name: str  # "nuke-default", "aces_1.2", "fn-nuke_cg-config-...", "custom", or "Nuke" (legacy LUTs)
    path: Optional[str]  # the file or ocio:// URI, when known
    from_environment: bool = False

    @property
    def label(self) -> str:
        return self.path or self.name


def _knob_text(name: str) -> str:
    knob = nuke.root().knobs().get(name)
    return str(knob.value()).strip() if knob is not None else ""


def _shipped_config(name: str) -> Optional[str]:
    base = os.path.join(os.path.dirname(str(getattr(nuke, "EXE_PATH", "") or "")), "plugins", "OCIOConfigs",
                        "configs")
    for candidate in (os.path.join(base, name, "config.ocio"), os.path.join(base, f"{name}.ocio"),
                      os.path.join(base, f"{name}.ocioz")):
        if os.path.isfile(candidate):
            return candidate
    return None


def script_ocio_config() -> OcioConfig:
    """The script's OCIO config: custom path, $OCIO, or a config shipped with Nuke (see module doc)."""
    if _knob_text("colorManagement") == "Nuke":
        return OcioConfig("Nuke", None)
    choice = _knob_text("OCIO_config") or "nuke-default"
    if choice == "custom":
        return OcioConfig("custom", _knob_text("customOCIOConfigPath") or None)
    environment = os.environ.get("OCIO", "").strip()
    if environment:
        return OcioConfig(choice, environment, from_environment=True)
    return OcioConfig(choice, _shipped_config(choice))


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
    working = _knob_text("workingSpaceLUT") or (found.roles.get("scene_linear") or "linear")
    return colour_names(found, working=working, defaults=defaults, config=script_ocio_config().label)


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
