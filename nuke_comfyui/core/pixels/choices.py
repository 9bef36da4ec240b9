"""What the artist (or the CLI) asked for the pixels: the plate's encoding, its file type, the results' type.

These are choices, not decisions: `decide.py` fits them to the servers that may take the render,
and the decision is what travels with the request (`RenderRequest.pixels`, journaled), so a retry
or a resume sends exactly the same pixels.

- `PlateEncoding`: what the plate's numbers mean. Models expect display-referred sRGB in [0, 1]
  (`srgb`, the default); `log` keeps HDR reversibly at the cost of a flat look; `linear` is the
  working space untouched (utility workflows: depth, invert, scale, inpaint).
- `PlateFormat`: the file the plate is written as: float EXR (half by default, full float on
  request) where every server can load it, else 8-bit PNG; `file` is a file the user gave as is.
- `ResultFormat`: how results are saved. `auto` saves 32-bit EXR when the plate is float and the
  servers can, else as the workflow saves; `exr` / `png16` ask for those where the servers can;
  `png` keeps the workflow's own saver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Optional

from nuke_comfyui.core.errors import NukeComfyError


class PixelChoiceError(NukeComfyError):
    """A pixel choice that does not exist (message names the value and the choices)."""


class PlateEncoding(str, Enum):
    SRGB = "srgb"
    LOG = "log"
    LINEAR = "linear"

    @property
    def save_color_space(self) -> str:
        """SaveImageAdvanced's exr `input_color_space` that undoes this encoding's transfer on save:
        sRGB-encoded pixels are decoded to linear Rec.709; log and linear are written through."""
        return "sRGB" if self is PlateEncoding.SRGB else "linear"

    @property
    def label(self) -> str:
        return {"srgb": "sRGB", "log": "log", "linear": "linear / data"}[self.value]


class PlateFormat(str, Enum):
    EXR_HALF = "exr-half"
    EXR_FLOAT = "exr-float"
    PNG8 = "png"
    EXR_FILE = "exr"  # an EXR file given as it is (CLI)
    FILE = "file"  # any other file given as it is

    @property
    def is_float(self) -> bool:
        return self in (PlateFormat.EXR_HALF, PlateFormat.EXR_FLOAT, PlateFormat.EXR_FILE)

    @property
    def label(self) -> str:
        return {"exr-half": "half-float EXR", "exr-float": "32-bit float EXR", "png": "8-bit PNG",
                "exr": "the EXR file as it is", "file": "the input file as it is"}[self.value]


class ResultFormat(str, Enum):
    AUTO = "auto"
    EXR = "exr"
    PNG16 = "png16"
    PNG = "png"


def parse_choice(enum: Any, value: Any, what: str) -> Any:
    """`value` as a member of `enum`, or a PixelChoiceError naming `what` and the choices."""
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        raise PixelChoiceError(f"{what} {value!r} is unknown; use one of {choices}") from None


@dataclass
class PixelRequest:
    """The pixel part of a RenderRequest, as JSON-safe fields (see the module docstring).

    `plate` is the format the plate was actually written in, `results` the result format decided
    (`exr`, `png16` or `png`; `auto` only before deciding), `notes` what was lost and where
    (clipped pixels, colour spaces assumed, servers that forced a fallback).
    """

    encoding: str = PlateEncoding.SRGB.value
    plate: str = PlateFormat.FILE.value
    results: str = ResultFormat.AUTO.value
    notes: List[str] = field(default_factory=list)
    width: Optional[int] = None  # the plate's width in pixels, when known (some servers need it aligned)
    srgb_assumed: bool = False  # the sRGB plate used an assumed space: EXR results are written through

    @property
    def plate_encoding(self) -> PlateEncoding:
        return parse_choice(PlateEncoding, self.encoding, "plate encoding")

    @property
    def plate_format(self) -> PlateFormat:
        return parse_choice(PlateFormat, self.plate, "plate format")

    @property
    def result_format(self) -> ResultFormat:
        return parse_choice(ResultFormat, self.results, "output format")

    def validate(self) -> None:
        _ = self.plate_encoding, self.plate_format, self.result_format
        if not isinstance(self.notes, list) or not all(isinstance(n, str) for n in self.notes):
            raise PixelChoiceError(f"pixel notes must be a list of text lines, not {self.notes!r}")
        if self.width is not None and (isinstance(self.width, bool) or not isinstance(self.width, int)
                                       or self.width < 1):
            raise PixelChoiceError(f"the plate width must be a number of pixels, not {self.width!r}")

    def to_dict(self) -> Dict[str, Any]:
        return {"encoding": self.encoding, "plate": self.plate, "results": self.results, "notes": list(self.notes),
                "width": self.width, "srgb_assumed": self.srgb_assumed}

    @classmethod
    def from_dict(cls, data: Optional[Dict[str, Any]]) -> PixelRequest:
        """The request's `pixels` field (None: every default, as before pixels were chosen)."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise PixelChoiceError(f"pixels must be an object with encoding, plate and results, not {data!r}")
        unknown = sorted(set(data) - {"encoding", "plate", "results", "notes", "width", "srgb_assumed"})
        if unknown:
            raise PixelChoiceError(f"pixels has unknown fields {unknown}; was it written by a newer nuke-comfyui?")
        made = cls(**{k: v for k, v in data.items()})
        made.validate()
        return made


def render_arguments(pixels: Optional[Dict[str, Any]]) -> List[str]:
    """`nuke-comfyui render` arguments that make a farm task decide its pixels as the request did
    (`--output-format` the decided results, `--plate-encoding` what the plate's numbers mean)."""
    if not pixels:
        return []
    results = str(pixels.get("results") or ResultFormat.AUTO.value)
    known = {r.value for r in ResultFormat}
    args = ["--output-format", results if results in known else ResultFormat.AUTO.value]
    if pixels.get("encoding") in {e.value for e in PlateEncoding}:
        args += ["--plate-encoding", str(pixels["encoding"])]
    return args
