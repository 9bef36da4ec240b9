"""Colour-space names from the script's own OCIO config, never from a constant.

Nuke's `nuke-default`, ACES 1.2 and Nuke 15/16's fn-nuke (cg-config) name the same idea
differently (`sRGB` / `Utility - sRGB - Texture` / `sRGB - Texture`), and a studio config may
have none of these names. What Nuke offers is the list of a colourspace knob (`knob.values()`):
in recent Nuke each item is `name<TAB>Colorspaces/Family/name[<TAB><TAB>alias,alias]`, a role
is `role<TAB>role (space)`, and older releases give `Family/name` (what `nuke.getColorspaceList`
strips at the last `/`). `ColourSpaceListing.parse` reads all three.

Each purpose is resolved roles first, as the config's author declared them, then by the config's
own names, then by a clear fallback with a note (never a failed render, never a silent guess):

- sRGB texture (the `srgb` plate encoding, PNG results): the roles `color_picking`, `matte_paint`,
  `texture_paint`, taken only when the space they name is an sRGB texture space (roles differ
  between configs: ACES 1.2's `color_picking` is the display transform `Output - sRGB`, cg-config
  v2's `matte_paint` is ACEScct), then known names; else the project's 8-bit default (`int8Lut`).
- log (the `log` encoding): `compositing_log` when it keeps at least LOG_HEADROOM_WANTED (64.0)
  under code value 1.0, because ComfyUI clamps a plate above 1.0; else the widest known log of the
  config (ACES 1.2's ADX10 keeps 22.8, nuke-default's Cineon 13.5: ACEScct / Log3G10 are used).
- linear Rec.709 and Rec.2020: what SaveImageAdvanced's EXR decoding yields.
- linear / data: no name at all, the Write and Read are `raw`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from nuke_comfyui.core.pixels.choices import PlateEncoding
from nuke_comfyui.core.pixels.savers import ResultColour

#: the linear value a log encoding must keep under code 1.0: six stops over diffuse white
LOG_HEADROOM_WANTED = 64.0

SRGB_NAMES = ("sRGB - Texture", "sRGB Encoded Rec.709 (sRGB)", "Utility - sRGB - Texture", "srgb_tx",
              "srgb_texture", "Input - Generic - sRGB - Texture", "sRGB")
LINEAR_REC709_NAMES = ("Linear Rec.709 (sRGB)", "Utility - Linear - sRGB", "Utility - Linear - Rec.709",
                       "lin_rec709_srgb", "lin_srgb", "lin_rec709", "linear")
LINEAR_REC2020_NAMES = ("Linear Rec.2020", "Utility - Linear - Rec.2020", "lin_rec2020")
#: linear value at code 1.0 of known log encodings, computed with OCIO's own transforms
LOG_HEADROOM: Dict[str, float] = {
    "acescct": 222.86, "aces - acescct": 222.86, "acescct_ap1": 222.86,
    "acescc": 222.86, "aces - acescc": 222.86, "acescc_ap1": 222.86,
    "log3g10": 184.32, "log3g10 redwidegamutrgb": 184.32, "input - red - redlog3g10 - redwidegamutrgb": 184.32,
    "arri logc4": 469.80,
    "arri logc3 (ei800)": 55.08, "alexav3logc": 55.08, "input - arri - v3 logc (ei800) - wide gamut": 55.08,
    "v-log v-gamut": 46.09, "s-log3 s-gamut3": 38.42, "slog3": 38.42,
    "adx10": 22.76, "input - adx - adx10": 22.76, "cineon": 13.52,
}
#: wide logs to use when compositing_log is too narrow, best first (ACEScct: the comp standard)
LOG_PREFERENCE = ("ACEScct", "ACES - ACEScct", "acescct_ap1", "Log3G10", "Log3G10 REDWideGamutRGB",
                  "Input - RED - REDLog3G10 - REDWideGamutRGB", "ARRI LogC4")
SRGB_ROLES = ("color_picking", "matte_paint", "texture_paint")
_ROLE_ITEM = re.compile(r"^(?P<role>.+) \((?P<space>.+)\)$")


@dataclass(frozen=True)
class ColourSpaceListing:
    """The names a colourspace knob accepts: spaces (in menu order), their aliases, and roles."""

    names: Tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)  # alias -> space name
    roles: Mapping[str, str] = field(default_factory=dict)  # role -> space name

    @classmethod
    def parse(cls, items: Iterable[str]) -> ColourSpaceListing:
        """A knob's `values()` in any of Nuke's three forms (see the module docstring)."""
        names: List[str] = []
        aliases: Dict[str, str] = {}
        roles: Dict[str, str] = {}
        for item in items:
            fields = str(item).split("\t")
            value = fields[0].strip()
            if len(fields) == 1:
                value = value.split("/")[-1].strip()
            elif (match := _ROLE_ITEM.match(fields[1].strip())) and match.group("role") == value:
                if value != "default":
                    roles[value] = match.group("space")
                continue
            if not value or value == "default" or value.startswith("default ("):
                continue
            names.append(value)
            if len(fields) >= 4:
                aliases.update({a.strip(): value for a in fields[3].split(",") if a.strip()})
        known = set(names)
        resolved = {role: aliases.get(space, space) for role, space in roles.items()}
        return cls(tuple(names), aliases, {r: s for r, s in resolved.items() if s in known})

    def canonical(self, value: str) -> Optional[str]:
        """The space a name, alias or role stands for (None when the config lacks it)."""
        if value in self.names:
            return value
        return self.aliases.get(value) or self.roles.get(value)

    def spellings(self, name: str) -> List[str]:
        """A space's name and every alias of it (to recognise it whatever it is called)."""
        return [name] + [alias for alias, target in self.aliases.items() if target == name]

    def find(self, candidates: Sequence[str]) -> Optional[str]:
        """The first candidate the config has, as its canonical space name."""
        for candidate in candidates:
            found = self.canonical(candidate)
            if found is not None:
                return found
        return None


@dataclass(frozen=True)
class ColourChoice:
    """The value for a colourspace knob (None: `raw`, no conversion) and, when assumed, why."""

    name: Optional[str]
    note: str = ""

    @property
    def raw(self) -> bool:
        return self.name is None


@dataclass(frozen=True)
class ColourNames:
    """The script's names for every colour the round trip needs."""

    working: str
    srgb: ColourChoice
    log: ColourChoice
    linear_rec709: ColourChoice
    linear_rec2020: ColourChoice
    config: str = ""

    def for_plate(self, encoding: PlateEncoding) -> ColourChoice:
        """Where the plate is converted to from the working space."""
        return {PlateEncoding.SRGB: self.srgb, PlateEncoding.LOG: self.log,
                PlateEncoding.LINEAR: ColourChoice(None)}[encoding]

    def for_result(self, colour: ResultColour) -> ColourChoice:
        """What a result Read converts from, back to the working space."""
        return {ResultColour.SRGB: self.srgb, ResultColour.LOG: self.log, ResultColour.DATA: ColourChoice(None),
                ResultColour.LINEAR_REC709: self.linear_rec709,
                ResultColour.LINEAR_REC2020: self.linear_rec2020}[colour]


def _matches(listing: ColourSpaceListing, space: str, known: Sequence[str]) -> bool:
    wanted = {k.lower() for k in known}
    return any(s.lower() in wanted for s in listing.spellings(space))


def _headroom(listing: ColourSpaceListing, space: str) -> Optional[float]:
    for spelling in listing.spellings(space):
        if spelling.lower() in LOG_HEADROOM:
            return LOG_HEADROOM[spelling.lower()]
    return None


def _fallback(default: Optional[str], listing: ColourSpaceListing, what: str, config: str) -> ColourChoice:
    """The project's own default for this kind of file, else raw, with a note saying which."""
    chosen = listing.canonical(default) if default else None
    where = f"the OCIO config {config}" if config else "this script's OCIO config"
    if chosen is not None:
        return ColourChoice(chosen, f"{where} has no {what} space; assumed the project's default {chosen!r}")
    return ColourChoice(None, f"{where} has no {what} space; written and read raw (no conversion)")


def srgb_choice(listing: ColourSpaceListing, int8_default: Optional[str] = None, config: str = "") -> ColourChoice:
    for role in SRGB_ROLES:
        space = listing.roles.get(role)
        if space is not None and _matches(listing, space, SRGB_NAMES):
            return ColourChoice(space)
    found = listing.find(SRGB_NAMES)
    if found is not None:
        return ColourChoice(found)
    guessed = [n for n in listing.names if "srgb" in n.lower() and "texture" in n.lower()
               and not any(w in n.lower() for w in ("ap1", "p3", "linear"))]
    if guessed:
        return ColourChoice(guessed[0], f"no standard sRGB texture space; assumed {guessed[0]!r}")
    return _fallback(int8_default, listing, "sRGB texture", config)


def log_choice(listing: ColourSpaceListing, log_default: Optional[str] = None, config: str = "") -> ColourChoice:
    role = listing.roles.get("compositing_log")
    room = _headroom(listing, role) if role else None
    if role is not None and (room is None or room >= LOG_HEADROOM_WANTED):
        return ColourChoice(role)
    wide = listing.find(LOG_PREFERENCE)
    if wide is not None:
        why = (f"compositing_log {role!r} keeps only up to {room:g} (ComfyUI clamps the plate above 1.0)"
               if role is not None and room is not None else "the config has no compositing_log role")
        return ColourChoice(wide, f"{why}; the log plate uses {wide!r}, which keeps up to "
                                  f"{_headroom(listing, wide) or 0:g}")
    if role is not None:
        return ColourChoice(role, f"compositing_log {role!r} keeps only up to {room:g}: brighter values clip")
    return _fallback(log_default, listing, "log", config)


def linear_choice(listing: ColourSpaceListing, known: Sequence[str], what: str, float_default: Optional[str],
                  config: str = "") -> ColourChoice:
    found = listing.find(known)
    return ColourChoice(found) if found is not None else _fallback(float_default, listing, what, config)


def colour_names(listing: ColourSpaceListing, *, working: str, defaults: Optional[Mapping[str, str]] = None,
                 config: str = "") -> ColourNames:
    """Resolve every purpose for one config. `defaults` are the project's default LUT knobs by kind
    ("int8", "log", "float"), used, with a note, when the config has no fitting space."""
    defaults = defaults or {}
    return ColourNames(
        working=working,
        srgb=srgb_choice(listing, defaults.get("int8"), config),
        log=log_choice(listing, defaults.get("log"), config),
        linear_rec709=linear_choice(listing, LINEAR_REC709_NAMES, "linear Rec.709", defaults.get("float"), config),
        linear_rec2020=linear_choice(listing, LINEAR_REC2020_NAMES, "linear Rec.2020", defaults.get("float"),
                                     config),
        config=config,
    )
