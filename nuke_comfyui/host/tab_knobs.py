"""The knobs of one workflow input on the Workflow tab: one builder per input type, and how each is read back.

Each builder returns the input's knobs (the value knob first, then any companions such as the
TCL toggle of a text input) and a small JSON-able *spec* that says how to turn the knob back into
the value `/object_info` declares. The spec is kept on the node (workflow_tab's hidden source knob)
so a reopened script reads its knobs the same way. Why each type is built as it is (Nuke's rules):

- STRING: ComfyUI text is ordinary text: `[red|blue]` in dynamic prompts, `(word:1.2)` weights,
  `$5`, `C:\\temp`. Nuke's text knobs TCL-evaluate `value()`, which would run `[red|blue]` as a
  command, so the text is read raw (`getText()`) and reaches the server verbatim. An artist who
  wants TCL (`[frame]`, `[value root.name]`) ticks the input's **TCL** box; the text is then
  evaluated at each frame with an OutputContext (`value(oc)`: `EvalString_Knob.evaluate()` takes
  no frame in Nuke's API).
- Values that are not text in a STRING input (a number, None, a list) are converted deliberately:
  a number becomes its text (ComfyUI's own `str(val)`), None becomes empty text, and a list or
  object is shown and sent as JSON (the JSON type below); the note says so.
- INT: Nuke's Int_Knob holds a 32-bit C int. An INT whose value or declared range goes beyond it
  (ComfyUI declares many ranges up to 2**64 - 1) gets a text knob holding the whole number, read
  exactly and checked against the range at Render; seeds are not here (they have their own knobs).
- COMBO: a pull-down (Enumeration_Knob, an Array_Knob: its index is what animates, `valueAt` is a
  float index, `setValue(int)` picks by index). The item is always chosen by its word and read
  back by index into the spec's typed options, so `[512, 768, 1024]` sends the int 768 and an
  animated sampler sends "dpmpp_2m", never 4.0. A workflow value no server lists (a missing
  checkpoint) is kept as an extra item marked "(not on any server)": the tab builds, the knob shows
  it, and Render names the server and the fix.
- JSON (a list or object value no server describes): its JSON text, parsed back at Render.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import nuke

from nuke_comfyui.core.combo_check import SERVER_VALIDATED
from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.workflow_inputs import WorkflowInput

PREFIX = "wf_"
TCL_ROLE = "tcl"
C_INT_MIN, C_INT_MAX = -(2 ** 31), 2 ** 31 - 1
MISSING = " (not on any server)"
Spec = Dict[str, Any]


class TabValueError(NukeComfyError):
    """A Workflow-tab knob holds something its input cannot take (message names the knob and the fix)."""


@dataclass
class InputKnobs:
    """The knobs built for one input: `value` feeds the input, `companions` by role (e.g. "tcl")."""

    value: Any
    spec: Spec
    companions: Dict[str, Any] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


def knob_name(key: str, role: str = "") -> str:
    """wf_<node>__<input> (wf_3__denoise), plus __<role> for a companion knob."""
    base = PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", key.replace(".", "__"))
    return f"{base}__{role}" if role else base


def _label(item: WorkflowInput) -> str:
    return item.label or item.name


def _fits_c_int(item: WorkflowInput) -> bool:
    bounds = [b for b in (item.minimum, item.maximum) if b is not None]
    values = [item.value] if isinstance(item.value, int) and not isinstance(item.value, bool) else []
    return all(C_INT_MIN <= b <= C_INT_MAX for b in bounds + values)


def int_knobs(item: WorkflowInput) -> InputKnobs:
    if not _fits_c_int(item):
        return wide_int_knobs(item)
    knob = nuke.Int_Knob(knob_name(item.key), _label(item))
    knob.setValue(int(item.value) if isinstance(item.value, (int, float)) else 0)
    return InputKnobs(knob, {"type": "int"})


def wide_int_knobs(item: WorkflowInput) -> InputKnobs:
    """A whole number beyond Nuke's 32-bit Int_Knob, as exact text (checked against the range at Render)."""
    knob = nuke.String_Knob(knob_name(item.key), _label(item))
    knob.setValue(str(int(item.value)) if isinstance(item.value, (int, float)) else "0")
    knob.setTooltip("A whole number wider than Nuke's integer knob (32 bits): typed as text, sent exactly.")
    spec: Spec = {"type": "wide_int", "min": item.minimum, "max": item.maximum}
    return InputKnobs(knob, spec)


def float_knobs(item: WorkflowInput) -> InputKnobs:
    knob = nuke.Double_Knob(knob_name(item.key), _label(item))
    if item.minimum is not None and item.maximum is not None and item.maximum - item.minimum < 1e6:
        knob.setRange(item.minimum, item.maximum)
    knob.setValue(float(item.value) if isinstance(item.value, (int, float)) else 0.0)
    return InputKnobs(knob, {"type": "float"})


def boolean_knobs(item: WorkflowInput) -> InputKnobs:
    knob = nuke.Boolean_Knob(knob_name(item.key), _label(item))
    knob.setValue(bool(item.value))
    return InputKnobs(knob, {"type": "bool"})


def combo_knobs(item: WorkflowInput) -> InputKnobs:
    if not item.options:
        return text_knobs(item)
    options = list(item.options)
    words = [str(o) for o in options]
    notes: List[str] = []
    if item.value not in options:
        options.append(item.value)
        words.append(f"{item.value}{MISSING}")
        if (item.class_type, item.name) in SERVER_VALIDATED:  # the node checks the value itself
            notes.append(f"{item.title} > {item.name}: the workflow's value {item.value!r} is not in the servers' "
                         "list; this node checks its value itself and ComfyUI takes it (it may fall back at run time)")
        else:
            notes.append(f"{item.title} > {item.name}: the workflow's value {item.value!r} is not on any server; "
                         "pick one the servers list, or install it on them")
    knob = nuke.Enumeration_Knob(knob_name(item.key), _label(item), words)
    knob.setValue(words[options.index(item.value)])
    spec: Spec = {"type": "combo"}
    if words != options:  # numbers, or a missing value: the words alone cannot give the value back
        spec["options"] = options
    return InputKnobs(knob, spec, notes=notes)


def _as_text(item: WorkflowInput) -> Tuple[str, List[str]]:
    value = item.value
    if isinstance(value, str):
        return value, []
    if value is None:
        return "", [f"{item.title} > {item.name}: the workflow's value is null; the tab shows it as empty text"]
    if isinstance(value, (bool, int, float)):
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        return text, [f"{item.title} > {item.name}: the workflow's value {value!r} is not text; it is sent as "
                      f"the text {text!r}"]
    return json.dumps(value), []


def text_knobs(item: WorkflowInput) -> InputKnobs:
    if isinstance(item.value, (list, dict)):
        return json_knobs(item)
    text, notes = _as_text(item)
    cls = nuke.Multiline_Eval_String_Knob if item.multiline else nuke.EvalString_Knob
    knob = cls(knob_name(item.key), _label(item))
    knob.setValue(text)
    toggle = nuke.Boolean_Knob(knob_name(item.key, TCL_ROLE), "TCL")
    toggle.setTooltip("Off: the text is sent exactly as typed ([brackets], $ and backslashes included).\n"
                      "On: the text is TCL-evaluated at each frame, e.g. [frame] or [value root.name].")
    toggle.clearFlag(nuke.STARTLINE)
    return InputKnobs(knob, {"type": "text"}, {TCL_ROLE: toggle}, notes)


def json_knobs(item: WorkflowInput) -> InputKnobs:
    knob = nuke.Multiline_Eval_String_Knob(knob_name(item.key), _label(item))
    knob.setValue(json.dumps(item.value))
    knob.setTooltip("A list or object, as JSON text; it is parsed when the render is sent.")
    return InputKnobs(knob, {"type": "json"})


#: one builder per input kind (`WorkflowInput.kind`); anything else is text
BUILDERS: Dict[str, Callable[[WorkflowInput], InputKnobs]] = {
    "INT": int_knobs, "FLOAT": float_knobs, "BOOLEAN": boolean_knobs, "COMBO": combo_knobs,
    "STRING": text_knobs, "JSON": json_knobs,
}


def build_knobs(item: WorkflowInput) -> InputKnobs:
    return BUILDERS.get(item.kind, text_knobs)(item)


# ------------------------------------------------------------------------------- reading back
def spec_of(knob: Any, saved: Optional[Spec]) -> Spec:
    """The saved spec, else (a tab built by an older version) one guessed from the knob's class."""
    if saved:
        return saved
    if isinstance(knob, nuke.Enumeration_Knob):
        return {"type": "combo"}
    if isinstance(knob, nuke.Boolean_Knob):
        return {"type": "bool"}
    if isinstance(knob, nuke.Int_Knob):
        return {"type": "int"}
    if isinstance(knob, nuke.Double_Knob):
        return {"type": "float"}
    return {"type": "text"}


def varies(knob: Any, spec: Spec, tcl: Any) -> bool:
    """Whether the knob can give each frame another value (animation, an expression, TCL text)."""
    if spec["type"] in ("text", "json", "wide_int"):
        return _tcl_on(tcl) and any(c in knob.getText() for c in "[$")
    return bool(knob.isAnimated())


def _tcl_on(tcl: Any) -> bool:
    return tcl is not None and bool(tcl.value())


def _where(knob: Any) -> str:
    return f"{knob.node().fullName()}: Workflow tab '{knob.label() or knob.name()}'"


def _text_at(knob: Any, tcl: Any, frame: Optional[int]) -> str:
    if not _tcl_on(tcl):
        return str(knob.getText())
    try:
        if frame is None:
            return str(knob.value())
        context = nuke.OutputContext()
        context.setFrame(frame)
        return str(knob.value(context))
    except (RuntimeError, ValueError, SyntaxError) as exc:
        raise TabValueError(f"{_where(knob)} does not evaluate as TCL ({exc}); fix the TCL, or untick its "
                            "TCL box to send the text exactly as typed") from None


def _combo_at(knob: Any, spec: Spec, frame: Optional[int]) -> Any:
    number = knob.valueAt(frame) if frame is not None and knob.isAnimated() else knob.getValue()
    options = spec.get("options") or knob.values()
    index = round(float(number))
    if not 0 <= index < len(options):
        raise TabValueError(f"{_where(knob)}: item {index} does not exist (the pull-down has {len(options)}); "
                            "pick an item again")
    return options[index]


def _wide_int(knob: Any, spec: Spec, text: str) -> int:
    try:
        number = int(text.strip())
    except ValueError:
        raise TabValueError(f"{_where(knob)} must be a whole number, not {text!r}") from None
    low, high = spec.get("min"), spec.get("max")
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"{'' if low is None else int(low)}..{'' if high is None else int(high)}"
        raise TabValueError(f"{_where(knob)}: {number} is outside {bounds}; type a number in that range")
    return number


def read_at(knob: Any, spec: Spec, tcl: Any, frame: Optional[int]) -> Any:
    """The value the input gets at frame (None: the knob's current value), typed as the server declares."""
    kind = spec["type"]
    if kind == "combo":
        return _combo_at(knob, spec, frame)
    if kind in ("text", "json", "wide_int"):
        text = _text_at(knob, tcl, frame)
        if kind == "wide_int":
            return _wide_int(knob, spec, text)
        if kind == "json":
            try:
                return json.loads(text)
            except ValueError as exc:
                raise TabValueError(f"{_where(knob)} is not valid JSON ({exc}); fix the text or press "
                                    "Reset to workflow values") from None
        return text
    value = knob.valueAt(frame) if frame is not None and knob.isAnimated() else knob.value()
    return {"int": int, "float": float, "bool": bool}[kind](value)


def write(knob: Any, spec: Spec, value: Any) -> None:
    """Set the knob to a workflow value (Reset to workflow values), converting as the builder did."""
    kind = spec["type"]
    if kind == "combo":
        options = spec.get("options") or knob.values()
        if value in options:
            knob.setValue(int(options.index(value)))
        elif str(value) in knob.values():
            knob.setValue(str(value))
    elif kind in ("int", "float", "bool"):
        knob.setValue({"int": int, "float": float, "bool": bool}[kind](value))
    elif kind == "json" or not isinstance(value, (str, int, float, type(None))):
        knob.setValue(json.dumps(value))
    elif kind == "wide_int":
        knob.setValue(str(value if isinstance(value, int) else 0))
    else:
        knob.setValue("" if value is None else (json.dumps(value) if isinstance(value, bool) else str(value)))
