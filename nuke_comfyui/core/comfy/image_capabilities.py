"""What one ComfyUI server can do with image files: float plates in, float results out.

Two changes in ComfyUI decide whether a plate can travel as float and come back as float:

| since  | upstream commit (date)                                          | what it gives us                     |
|--------|-----------------------------------------------------------------|--------------------------------------|
| 0.21.0 | dae3d347 (2026-04-28) "Use pyav to load images instead of pillow" | `LoadImage` reads EXR as float     |
| 0.23.0 | 0077d78c (2026-05-24) "Save Image advanced node"                  | `SaveImageAdvanced`: png 16-bit, exr |
| 0.25.0 | a1d95f3f (2026-06-13) "Fix nondeterministic video decode..."  | (a loss) a float image whose width is |
|        |                                                                 | not a multiple of 32 fails to load   |

PyAV loading leaves no trace in `/object_info` (LoadImage declares the same inputs before and
after), so it is learned from the version `/system_stats` reports; a server that lists
`SaveImageAdvanced` is at least 0.23 and so loads EXR too, whatever version string it reports
(forks and dev builds). `SaveImageAdvanced` and the formats it offers are read from the server's
own `/object_info` (its `format` input is a dynamic combo whose options carry their sub-inputs),
never assumed from the version. Measured on a real 0.33 (tests/sim/data/comfyui-0.33-float-paths.json,
docs/NUKE.md "Colour and precision"): a 32-bit float EXR loads exactly, above 1 and below 0 kept; a
half EXR or a 16-bit PNG is dithered (up to 2.8e-4) and clamped to [0, 1].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from nuke_comfyui.core.comfy.capabilities import parse_version

PYAV_IMAGE_LOAD_SINCE = (0, 21, 0)
SAVE_IMAGE_ADVANCED_SINCE = (0, 23, 0)
ALIGNED_FLOAT_WIDTH_SINCE = (0, 25, 0)
FLOAT_WIDTH_MULTIPLE = 32
SAVE_ADVANCED = "SaveImageAdvanced"
EXR_FLOAT = "32-bit float"
PNG_16 = "16-bit"


@dataclass(frozen=True)
class ImageCapabilities:
    """One server's image paths. The defaults are the oldest: 8-bit PNG in and out."""

    version: Optional[str] = None
    known: bool = False  # False: neither a version nor /object_info was read yet
    exr_load: bool = False  # LoadImage decodes EXR as float ([0, 1] exact, clamped above 1)
    save_exr: bool = False  # SaveImageAdvanced offers exr "32-bit float"
    save_png16: bool = False  # SaveImageAdvanced offers png "16-bit"
    exr_color_spaces: Tuple[str, ...] = ()  # the exr format's input_color_space options
    float_width_multiple: int = 1  # a float image must be this many pixels wide, times n, to load

    def loads_float_width(self, width: int) -> bool:
        """A float plate `width` pixels wide loads here (0.25+ fails on widths not a multiple of 32)."""
        return self.exr_load and width % self.float_width_multiple == 0

    def to_json(self) -> Dict[str, Any]:
        data = asdict(self)
        data["exr_color_spaces"] = list(self.exr_color_spaces)
        return data

    def summary(self) -> str:
        """'EXR in, EXR/PNG16 out', '8-bit PNG' or 'unknown' (a status column, a node note)."""
        if not self.known:
            return "unknown"
        if not (self.exr_load or self.save_exr or self.save_png16):
            return "8-bit PNG"
        inbound = "EXR in" if self.exr_load else "8-bit PNG in"
        saved = [name for name, has in (("EXR", self.save_exr), ("PNG16", self.save_png16)) if has]
        return f"{inbound}, {'/'.join(saved) if saved else '8-bit PNG'} out"


def _options(spec: Any) -> Tuple[str, ...]:
    """A COMBO's options from either form (`[[...], {...}]` or `["COMBO", {"options": [...]}]`)."""
    if not isinstance(spec, (list, tuple)) or not spec:
        return ()
    if isinstance(spec[0], (list, tuple)):
        return tuple(str(o) for o in spec[0])
    extra = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    options = extra.get("options")
    return tuple(str(o) for o in options) if isinstance(options, (list, tuple)) else ()


def save_formats(object_info: Optional[Mapping[str, Any]]) -> Dict[str, Dict[str, Tuple[str, ...]]]:
    """SaveImageAdvanced's formats as {format: {sub-input: options}}; {} when the class is absent.

    `format` is a `COMFY_DYNAMICCOMBO_V3` whose options are `{key, inputs: {required: {...}}}`.
    """
    entry = (object_info or {}).get(SAVE_ADVANCED)
    if not isinstance(entry, dict):
        return {}
    declared = entry.get("input") if isinstance(entry.get("input"), dict) else {}
    spec = (declared.get("required") or {}).get("format") if isinstance(declared, dict) else None
    if not isinstance(spec, (list, tuple)) or len(spec) < 2 or not isinstance(spec[1], dict):
        return {}
    found: Dict[str, Dict[str, Tuple[str, ...]]] = {}
    for option in spec[1].get("options") or ():
        if not isinstance(option, dict) or not isinstance(option.get("key"), str):
            continue
        inputs = option.get("inputs")
        subs: Dict[str, Tuple[str, ...]] = {}
        for section in ("required", "optional"):
            declared_section = inputs.get(section) if isinstance(inputs, dict) else None
            for name, sub in (declared_section if isinstance(declared_section, dict) else {}).items():
                subs[str(name)] = _options(sub)
        found[option["key"]] = subs
    return found


def image_capabilities(version: Optional[str], object_info: Optional[Mapping[str, Any]]) -> ImageCapabilities:
    """What a server reporting `version` with this `/object_info` (None: not read) can do with images."""
    formats = save_formats(object_info)
    exr = formats.get("exr", {})
    png = formats.get("png", {})
    save_exr = EXR_FLOAT in exr.get("bit_depth", ())
    number = parse_version(version)
    return ImageCapabilities(
        version=version,
        known=number is not None or object_info is not None,
        exr_load=bool(formats) or (number is not None and number >= PYAV_IMAGE_LOAD_SINCE),
        save_exr=save_exr,
        save_png16=PNG_16 in png.get("bit_depth", ()),
        exr_color_spaces=exr.get("input_color_space", ()) if save_exr else (),
        float_width_multiple=FLOAT_WIDTH_MULTIPLE if _aligns_float_width(number, bool(formats)) else 1,
    )


def _aligns_float_width(number: Optional[Tuple[int, int, int]], has_saver: bool) -> bool:
    """0.25+ pads float decodes in a way that fails on unaligned widths; an unknown release with
    SaveImageAdvanced (0.23+) is assumed to, which only costs a fallback to 8-bit on such widths."""
    if number is None:
        return has_saver
    return number >= ALIGNED_FLOAT_WIDTH_SINCE
