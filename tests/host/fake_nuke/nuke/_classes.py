"""The knobs of the built-in node classes the plugin touches, with Nuke's names, items and defaults.

Sources: Foundry's Nuke reference guide pages for Read, Write (per-file-type knobs such as
`datatype` exist only once `file_type` is set), Root (Project Settings, Color tab), OCIOColorSpace,
Expression and CurveTool. Colour-space menus come from the script's OCIO config (_ocio.py). A
class not listed here raises on creation, and a knob a class does not have raises NameError, as
in Nuke.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Tuple

from ._analysis import Box_Knob, Intensity_Knob
from ._knobs import EvalString_Knob, File_Knob, Knob, PyScript_Knob, String_Knob
from ._numeric import Boolean_Knob, Double_Knob, Enumeration_Knob, Int_Knob, make_knob
from ._ocio import BUILT_IN, LUT_ROLES, Colorspace_Knob, ConfigChoice_Knob, apply_config_change
from ._state import main_thread_only, not_modelled

FILE_TYPES = [" ", "cin", "dpx", "exr", "hdr", "jpeg", "mov", "png", "sgi", "targa", "tiff"]
# Knobs a Write gains when its file_type is chosen: name -> (items, default).
TYPE_KNOBS: Dict[str, Dict[str, Tuple[List[str], str]]] = {
    "png": {"datatype": (["8 bit", "16 bit"], "8 bit")},
    "tiff": {"datatype": (["8 bit", "16 bit", "32 bit float"], "8 bit"),
             "compression": (["none", "PackBits", "LZW", "Deflate"], "Deflate")},
    "exr": {"datatype": (["16 bit half", "32 bit float"], "16 bit half"),
            "compression": (["none", "Zip (1 scanline)", "Zip (16 scanlines)", "PIZ Wavelet (32 scanlines)"],
                            "Zip (1 scanline)")},
    "jpeg": {"_jpeg_sub_sampling": (["4:1:1", "4:2:2", "4:4:4"], "4:2:2")},
}


@main_thread_only
class Format_Knob(Knob):
    """A node's format as 'W H name' text; value() gives a nuke.Format."""

    _default = "2048 1556 2K_Super_35(full-ap)"

    def value(self) -> object:
        from ._nodes import Format

        width, height, *name = str(self._value).split()
        return Format(int(width), int(height), " ".join(name))

    def setValue(self, val: object) -> bool:
        from ._nodes import Format

        if isinstance(val, Format):
            self._value = f"{val.width()} {val.height()} {val.name()}"
        else:
            self._value = str(val)
        return True

    def toScript(self) -> str:
        return "{" + str(self._value) + "}"

    def fromScript(self, script: str) -> None:
        self._value = script.strip("{} ")


class _FileTypeKnob(Enumeration_Knob):
    """Write.file_type: choosing a type adds that type's knobs (datatype, compression, ...)."""

    def Class(self) -> str:
        return "Enumeration_Knob"

    def setValue(self, val: object) -> bool:
        super().setValue(val)
        if self._node is not None:
            apply_file_type(self._node)
        return True


def _enum(name: str, items: List[str], default: str = "") -> Knob:
    return make_knob(Enumeration_Knob, name, values=items, value=default or items[0])


def _read() -> List[Knob]:
    return [File_Knob("file"), File_Knob("proxy"), Format_Knob("format"),
            make_knob(Int_Knob, "first", value=1), _enum("before", ["hold", "loop", "bounce", "black"]),
            make_knob(Int_Knob, "last", value=1), _enum("after", ["hold", "loop", "bounce", "black"]),
            _enum("frame_mode", ["expression", "start at", "offset"]), String_Knob("frame"),
            make_knob(Int_Knob, "origfirst", value=1), make_knob(Int_Knob, "origlast", value=1),
            _enum("on_error", ["error", "black", "checkerboard", "nearest frame"]),
            PyScript_Knob("reload", "Reload", "nuke.thisNode()._fake_reload()"),
            Colorspace_Knob("colorspace"), Boolean_Knob("premultiplied"), Boolean_Knob("raw"),
            Boolean_Knob("auto_alpha"), Boolean_Knob("disable")]


def _write() -> List[Knob]:
    return [File_Knob("file"), File_Knob("proxy"), _FileTypeKnob("file_type", None, FILE_TYPES),
            _enum("channels", ["rgb", "rgba", "alpha", "all"]), Colorspace_Knob("colorspace"),
            String_Knob("views", value="main"), Boolean_Knob("premultiplied"), Boolean_Knob("raw"),
            Boolean_Knob("create_directories"), Boolean_Knob("use_limit"),
            make_knob(Int_Knob, "first", value=1), make_knob(Int_Knob, "last", value=1),
            Boolean_Knob("disable")]


def _root() -> List[Knob]:
    return [String_Knob("project_directory"), make_knob(Int_Knob, "first_frame", value=1),
            make_knob(Int_Knob, "last_frame", value=100), make_knob(Double_Knob, "fps", value=24.0),
            make_knob(Format_Knob, "format", value="32 18 fake"), Boolean_Knob("proxy"),
            make_knob(Format_Knob, "proxy_format", value="16 9 fake_proxy"),
            make_knob(EvalString_Knob, "views", value="main"),
            _enum("colorManagement", ["Nuke", "OCIO"]),
            ConfigChoice_Knob("OCIO_config", None, list(BUILT_IN)), _CustomConfigPath("customOCIOConfigPath"),
            File_Knob("OCIOConfigPath"),
            *(Colorspace_Knob(name, with_default=False) for name in LUT_ROLES)]


# Project Settings > Color (Nuke 14+): colour management, the config choice and the custom path
# (_ocio.py models what choosing them does), and the hidden OCIOConfigPath that Nuke sets to the
# chosen stock config's file (read the same way by deadline-cloud-for-nuke, nuke_util/ocio.py). The
# fake cannot know where a Nuke install keeps its stock configs, so OCIOConfigPath stays empty until
# a test sets it.
@main_thread_only
class _CustomConfigPath(File_Knob):
    """Root.customOCIOConfigPath: a new path applies at once when OCIO_config is "custom"."""

    def Class(self) -> str:
        return "File_Knob"

    def setValue(self, val: object) -> None:  # type: ignore[override]
        super().setValue(val)
        node = self._node
        if node is not None and str(node["OCIO_config"].value()) == "custom" and str(val).strip():
            apply_config_change()


@main_thread_only
class InputNumber_Knob(Int_Knob):
    """Input.number: the group input this Input node feeds, given in creation order (Nukepedia
    "Working with Pipe Numbers", keheka "The Hidden Number In Nuke"). Renumbering by hand is
    not modelled: a value other than the one Nuke gave raises."""

    def setValue(self, val: object) -> bool:
        if int(val) != int(self._value):  # type: ignore[call-overload]
            raise not_modelled(f"renumbering an Input node ({self._value} -> {val})")
        return True

    def fromScript(self, script: str) -> None:
        self.setValue(int(float(script)))


def _invert() -> List[Knob]:
    """Foundry's Invert reference: channels (default all), clamp, mix; a mask input second."""
    return [_enum("channels", ["all", "none", "rgb", "rgba", "alpha"]), Boolean_Knob("clamp"),
            make_knob(Double_Knob, "mix", value=1.0), Boolean_Knob("disable")]


def _ocio_colorspace() -> List[Knob]:
    """OCIOColorSpace: in_colorspace/out_colorspace from the config (default scene_linear), channels rgb."""
    source, target = Colorspace_Knob("in_colorspace", with_default=False), Colorspace_Knob("out_colorspace",
                                                                                            with_default=False)
    source._value = target._value = "scene_linear"
    return [_enum("channels", ["rgb", "rgba", "all", "alpha", "none"]), source, target, Boolean_Knob("disable")]


def _expression() -> List[Knob]:
    return [*(String_Knob(f"expr{i}") for i in range(4)), Boolean_Knob("disable")]


def _curve_tool() -> List[Knob]:
    return [_enum("operation", ["Avg Intensities", "Exposure Difference", "Max Luma Pixel", "Auto Crop"]),
            _enum("channels", ["rgba", "rgb", "alpha", "all"]), Box_Knob("ROI"), Intensity_Knob("intensitydata"),
            Boolean_Knob("disable")]


_PASS_THROUGH = ("Grade", "Blur", "Dot", "NoOp", "Reformat", "Transform", "Shuffle", "Output")
_SOURCES = ("Constant", "CheckerBoard2", "ColorBars")
KNOBS: Dict[str, Callable[[], List[Knob]]] = {"Read": _read, "Write": _write,
                                              "OCIOColorSpace": _ocio_colorspace, "Expression": _expression,
                                              "CurveTool": _curve_tool}
#: classes with more than one input: name -> (knobs, max inputs)
MULTI_INPUT: Dict[str, Tuple[Callable[[], List[Knob]], int]] = {"Invert": (_invert, 2)}


def builtin(klass: str) -> Tuple[List[Knob], int]:
    """(knobs, max inputs) of a built-in class; unknown classes raise as `createNode` does."""
    if klass in KNOBS:
        return KNOBS[klass](), 0 if klass == "Read" else 1
    if klass in MULTI_INPUT:
        make, count = MULTI_INPUT[klass]
        return make(), count
    if klass == "Input":
        return [make_knob(InputNumber_Knob, "number", value=0), Boolean_Knob("disable")], 0
    if klass in _SOURCES:
        return [Boolean_Knob("disable")], 0
    if klass in _PASS_THROUGH:
        return [Boolean_Knob("disable")], 1
    raise RuntimeError(f"{klass} is not a known node class (fake nuke; add it with its real knobs if needed)")


def root_knobs() -> List[Knob]:
    return _root()


def apply_file_type(write: object) -> None:
    """Give a Write the knobs of its chosen file_type (and drop the previous type's)."""
    knobs = write._knobs  # type: ignore[attr-defined]
    for name in [n for n in knobs if getattr(knobs[n], "_file_type_knob", False)]:
        del knobs[name]
    for name, (items, default) in TYPE_KNOBS.get(str(knobs["file_type"].value()), {}).items():
        knob = _enum(name, items, default)
        knob._file_type_knob = True  # type: ignore[attr-defined]
        write._add(knob)  # type: ignore[attr-defined]
