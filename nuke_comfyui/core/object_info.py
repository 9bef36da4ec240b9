"""Reading a server's `/object_info`: which inputs of a node class are widgets, their types and order.

Two consumers need the same facts: turning ComfyUI's normal (UI) workflow files into API format
(widget values are stored by position, in the order `/object_info` declares the inputs) and
building typed knobs from a workflow (INT/FLOAT with min/max/step, STRING multiline, BOOLEAN,
COMBO options). ComfyUI 0.8 writes a combo as `[[options...], {...}]`; newer servers also write
`["COMBO", {"options": [...]}]`; both are read. Anything else (`MODEL`, `IMAGE`, ...) is a
socket, as is a widget type declared with `forceInput`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

WIDGET_KINDS = ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")
#: values ComfyUI's frontend stores after a widget with `control_after_generate` (seeds)
CONTROL_VALUES = ("fixed", "increment", "decrement", "randomize")

ObjectInfo = Dict[str, Any]


@dataclass(frozen=True)
class InputSpec:
    """One declared input of a node class, as `/object_info` describes it."""

    name: str
    kind: str  # INT, FLOAT, STRING, BOOLEAN, COMBO, or the socket type (MODEL, IMAGE, ...)
    required: bool
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    step: Optional[float] = None
    multiline: bool = False
    options: Tuple[Any, ...] = ()
    default: Any = None
    control_after_generate: bool = False
    force_input: bool = False

    @property
    def is_widget(self) -> bool:
        """A value typed in the node (stored in widgets_values), not a link socket."""
        return self.kind in WIDGET_KINDS and not self.force_input


def _spec(name: str, raw: Any, required: bool) -> InputSpec:
    if not isinstance(raw, (list, tuple)) or not raw:
        return InputSpec(name, "*", required)
    kind_raw = raw[0]
    extra: Dict[str, Any] = raw[1] if len(raw) > 1 and isinstance(raw[1], dict) else {}
    if isinstance(kind_raw, (list, tuple)):
        kind, options = "COMBO", tuple(kind_raw)
    elif kind_raw == "COMBO":
        kind, options = "COMBO", tuple(extra.get("options") or ())
    else:
        kind, options = str(kind_raw), ()

    def number(key: str) -> Optional[float]:
        value = extra.get(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    return InputSpec(
        name=name, kind=kind, required=required,
        minimum=number("min"), maximum=number("max"), step=number("step"),
        multiline=bool(extra.get("multiline")), options=options, default=extra.get("default"),
        control_after_generate=bool(extra.get("control_after_generate")),
        force_input=bool(extra.get("forceInput")),
    )


def class_inputs(info: ObjectInfo, class_type: str) -> Optional[List[InputSpec]]:
    """Required then optional inputs of `class_type` in declared order; None when the class is unknown."""
    entry = info.get(class_type)
    if not isinstance(entry, dict):
        return None
    declared = _mapping(entry.get("input"))
    order = _mapping(entry.get("input_order"))
    specs: List[InputSpec] = []
    for section in ("required", "optional"):
        inputs = _mapping(declared.get(section))
        names = [n for n in order.get(section, []) if n in inputs] or list(inputs)
        names += [n for n in inputs if n not in names]
        specs.extend(_spec(n, inputs[n], section == "required") for n in names)
    return specs


def _mapping(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def input_spec(info: ObjectInfo, class_type: str, name: str) -> Optional[InputSpec]:
    """The spec of one input, or None when the server does not declare it."""
    for spec in class_inputs(info, class_type) or ():
        if spec.name == name:
            return spec
    return None


def display_name(info: ObjectInfo, class_type: str) -> str:
    """The name ComfyUI shows for a class (its default node title)."""
    entry = info.get(class_type)
    name = entry.get("display_name") if isinstance(entry, dict) else None
    return str(name) if name else class_type


def output_types(info: ObjectInfo, class_type: str) -> List[str]:
    entry = info.get(class_type)
    outputs = entry.get("output") if isinstance(entry, dict) else None
    return [str(o) for o in outputs] if isinstance(outputs, list) else []


def merge(per_server: Dict[str, ObjectInfo]) -> ObjectInfo:
    """One view over several servers: each class as the first server (by name) that has it declares it."""
    merged: ObjectInfo = {}
    for server in sorted(per_server):
        for class_type, entry in (per_server[server] or {}).items():
            merged.setdefault(class_type, entry)
    return merged
