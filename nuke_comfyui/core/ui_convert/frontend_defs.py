"""A node class's inputs as ComfyUI's frontend builds a node from `/object_info`.

The frontend (1.49, the one ComfyUI 0.33 ships) makes a node's widgets from its class's
declared inputs: required ones in `input_order`, then optional ones, then anything else. An
input whose type has a widget constructor (INT, FLOAT, STRING, COMBO, ...) and is not
`forceInput` becomes a widget; every other input is only a socket. Two extensions add inputs
before the node is built: a media combo (`image_upload`, `video_upload`,
`animated_image_upload`) gets an `upload` button, and a required `audio` combo with
`audio_upload` gets one too. These facts decide which position of a saved `widgets_values`
belongs to which input, so they live in one place.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

#: types the frontend has a widget constructor for (its core widgets and its core extensions)
WIDGET_TYPES = frozenset({
    "INT", "FLOAT", "BOOLEAN", "STRING", "MARKDOWN", "COMBO", "IMAGEUPLOAD", "COLOR", "IMAGECOMPARE",
    "BOUNDING_BOX", "CHART", "GALLERIA", "PAINTER", "COMPOSITOR", "TEXTAREA", "CURVE", "RANGE", "VIDEO_EDIT",
    "BOUNDING_BOXES", "COLORS", "COMFY_DYNAMICCOMBO_V3",
    "AUDIOUPLOAD", "AUDIO_RECORD", "AUDIO_UI", "WEBCAM", "PREVIEW_3D", "LOAD_3D", "LOAD_3D_ADVANCED",
})
#: widgets whose value the browser makes at the moment it queues (a camera frame, a recording, a
#: 3D viewport capture, a painted canvas): nothing in the saved file holds it
QUEUE_TIME_WIDGETS = {
    "WEBCAM": "a webcam frame the browser captures",
    "AUDIO_RECORD": "a microphone recording the browser makes",
    "LOAD_3D": "a capture of ComfyUI's 3D viewer",
    "LOAD_3D_ADVANCED": "a capture of ComfyUI's 3D viewer",
    "PREVIEW_3D": "a capture of ComfyUI's 3D viewer",
    "PAINTER": "a canvas the browser paints and uploads",
}
#: widgets the frontend never writes into `widgets_values` (`widget.serialize === false`); of
#: those, the audio player is not sent either, the image comparer sends its default
UNSAVED_WIDGET_TYPES = frozenset({"AUDIO_UI", "IMAGECOMPARE"})
UNSENT_WIDGET_TYPES = frozenset({"AUDIO_UI"})
#: upload buttons: saved (their value is "image"), never sent (`options.serialize === false`)
BUTTON_WIDGET_TYPES = frozenset({"IMAGEUPLOAD", "AUDIOUPLOAD"})
#: number widgets a bounding-box widget adds after itself (saved, never sent)
BOX_FIELDS = ("x", "y", "width", "height")
#: a widget's value when neither the file nor the declaration gives one (the frontend's constructors)
TYPE_DEFAULTS: Dict[str, Any] = {
    "INT": 0, "FLOAT": 0, "BOOLEAN": False, "STRING": "", "TEXTAREA": "", "MARKDOWN": "", "PAINTER": "",
    "COLOR": "#000000", "COLORS": [], "BOUNDING_BOXES": [], "GALLERIA": [], "CHART": {}, "COMPOSITOR": {},
    "IMAGECOMPARE": ["", ""], "RANGE": {"min": 0, "max": 1},
    "BOUNDING_BOX": {"x": 0, "y": 0, "width": 512, "height": 512},
    "CURVE": {"points": [[0, 0], [1, 1]], "interpolation": "monotone_cubic"},
}
DYNAMIC_COMBO = "COMFY_DYNAMICCOMBO_V3"
AUTOGROW = "COMFY_AUTOGROW_V3"
MATCH_TYPE = "COMFY_MATCHTYPE_V3"
MEDIA_UPLOAD_FLAGS = ("image_upload", "video_upload", "animated_image_upload")
SEED_NAMES = ("seed", "noise_seed")


@dataclass(frozen=True)
class FrontendInput:
    """One input as the frontend sees it: its name (dotted for dynamic sub-inputs), type and options."""

    name: str
    type: str
    optional: bool
    options: Mapping[str, Any] = field(default_factory=dict)
    choices: Tuple[Any, ...] = ()  # COMBO options (a V1 list or the `options` key)

    @property
    def widget_type(self) -> Optional[str]:
        """The widget constructor the frontend uses for it, or None when it is only a socket."""
        if self.options.get("forceInput"):
            return None
        kind = str(self.options.get("widgetType") or self.type)
        return kind if kind in WIDGET_TYPES else None

    @property
    def has_control(self) -> bool:
        """Whether a `control_after_generate` widget follows it (its value is saved after this one)."""
        kind = self.widget_type
        control = self.options.get("control_after_generate")
        if kind == "INT":
            return bool(control) if control is not None else self.name in SEED_NAMES
        return kind in ("FLOAT", "COMBO") and bool(control)

    @property
    def has_filter_list(self) -> bool:
        """A combo's control is followed by a `control_filter_list` text widget (also saved)."""
        return self.widget_type == "COMBO" and self.has_control and "multi_select" not in self.options

    @property
    def has_refresh_button(self) -> bool:
        """A combo whose choices come from a server route has a refresh button after it (saved too)."""
        remote = self.options.get("remote")
        return self.widget_type == "COMBO" and isinstance(remote, dict) and bool(remote.get("refresh_button"))

    @property
    def default(self) -> Any:
        """The widget's value when the saved file holds none (the frontend's `getDefaultValue`)."""
        kind = self.widget_type
        if kind in ("COMBO", DYNAMIC_COMBO):  # `getDefaultValue`: a truthy default, else the first choice
            if self.options.get("default"):
                return self.options["default"]
            return [] if "multi_select" in self.options else (self.choices[0] if self.choices else None)
        if self.options.get("default") is not None:
            return copy.deepcopy(self.options["default"])
        return copy.deepcopy(TYPE_DEFAULTS.get(kind or ""))

    @property
    def dynamic_prompts(self) -> bool:
        """`{a|b}` choices and comments are resolved in this text when the prompt is queued."""
        return self.options.get("dynamicPrompts") is True and self.widget_type in ("STRING", "TEXTAREA")

    @property
    def dynamic_options(self) -> Dict[str, Mapping[str, Any]]:
        """A dynamic combo's keys and the inputs (`{"required": ..., "optional": ...}`) each brings."""
        found: Dict[str, Mapping[str, Any]] = {}
        for option in self.options.get("options") or ():
            if isinstance(option, dict) and "key" in option:
                found[str(option["key"])] = mapping(option.get("inputs"))
        return found


def from_v1(name: str, raw: Any, optional: bool) -> FrontendInput:
    """One `/object_info` input (`[type, {options}]`, a combo as `[[choices], {...}]`)."""
    if not isinstance(raw, (list, tuple)) or not raw:
        return FrontendInput(name, "*", optional)
    head = raw[0]
    options: Dict[str, Any] = dict(raw[1]) if len(raw) > 1 and isinstance(raw[1], dict) else {}
    if isinstance(head, (list, tuple)):
        return FrontendInput(name, "COMBO", optional, options, tuple(head))
    kind = str(head)
    if kind == DYNAMIC_COMBO:
        keys = tuple(str(o.get("key")) for o in options.get("options") or () if isinstance(o, dict))
        return FrontendInput(name, kind, optional, options, keys)
    choices = options.get("options") if kind == "COMBO" else None
    return FrontendInput(name, kind, optional, options, tuple(choices) if isinstance(choices, list) else ())


def section_inputs(sections: Mapping[str, Any], prefix: str = "") -> List[FrontendInput]:
    """Required then optional inputs of a `{"required", "optional"}` block, in the block's own order,
    named `prefix.name` (how a dynamic combo's chosen option adds its inputs)."""
    found: List[FrontendInput] = []
    for section in ("required", "optional"):
        block = sections.get(section)
        if isinstance(block, dict):
            found.extend(from_v1(f"{prefix}{key}", raw, section == "optional") for key, raw in block.items())
    return found


def class_inputs(entry: Mapping[str, Any]) -> List[FrontendInput]:
    """A class's inputs in the order the frontend creates them (upload buttons included)."""
    declared = mapping(entry.get("input"))
    required = dict(mapping(declared.get("required")))
    optional = mapping(declared.get("optional"))
    _add_upload_inputs(required)
    by_name: Dict[str, FrontendInput] = {}
    for name, raw in required.items():
        by_name[name] = from_v1(name, raw, False)
    for name, raw in optional.items():
        by_name[name] = from_v1(name, raw, True)
    order = mapping(entry.get("input_order"))
    if not order:
        return list(by_name.values())
    ordered = [by_name[n] for n in order.get("required") or () if n in by_name and not by_name[n].optional]
    ordered += [by_name[n] for n in order.get("optional") or () if n in by_name and by_name[n].optional]
    placed = {i.name for i in ordered}
    return ordered + [i for i in by_name.values() if i.name not in placed]


def mapping(value: Any) -> Dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (a server's declaration may lack any part)."""
    return value if isinstance(value, dict) else {}


def _add_upload_inputs(required: Dict[str, Any]) -> None:
    """The upload buttons the frontend's UploadImage and UploadAudio extensions add to a class."""
    for name, raw in required.items():
        if _is_media_upload(raw):
            options = raw[1] if len(raw) > 1 and isinstance(raw[1], dict) else {}
            required["upload"] = ["IMAGEUPLOAD", {**options, "imageInputName": name}]
            break
    audio = required.get("audio")
    if isinstance(audio, (list, tuple)) and len(audio) > 1 and isinstance(audio[1], dict) \
            and audio[1].get("audio_upload") is True:
        required["upload"] = ["AUDIOUPLOAD", {}]


def _is_media_upload(raw: Any) -> bool:
    if not isinstance(raw, (list, tuple)) or len(raw) < 2 or not isinstance(raw[1], dict):
        return False
    is_combo = isinstance(raw[0], (list, tuple)) or raw[0] == "COMBO"
    return is_combo and any(raw[1].get(flag) is True for flag in MEDIA_UPLOAD_FLAGS)
