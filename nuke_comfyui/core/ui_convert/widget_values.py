"""A node's saved `widgets_values` matched to its inputs, position by position, as the frontend restores them.

The frontend keeps no names in `widgets_values` (1.49 restores by position; names saved in
`widgets_values_named` are only read behind an experimental setting). Its walk, reproduced here:

- every widget of the node takes the next saved value, in the order the widgets were built
  (`frontend_defs.class_inputs`);
- an INT seed (and any INT, FLOAT or COMBO with `control_after_generate`) is followed by its
  control widget (`fixed`, `randomize`, ...); a COMBO's control also has a filter-list widget;
  a combo filled from a server route has a refresh button; media combos an upload button: each
  takes a position and is never sent;
- a dynamic combo (`COMFY_DYNAMICCOMBO_V3`) takes its key, and the inputs of the chosen option
  are inserted right after it, named `combo.sub` (recursively), so they take the next values;
- widgets left without a saved value keep their default; values beyond the last widget are
  ignored; a legacy file that still holds values for `forceInput` inputs has them dropped first
  (the frontend's `migrateWidgetsValues`).

A dict (some custom nodes save `{name: value}`) is read by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from nuke_comfyui.core.ui_convert.frontend_defs import (
    BOX_FIELDS,
    BUTTON_WIDGET_TYPES,
    DYNAMIC_COMBO,
    UNSAVED_WIDGET_TYPES,
    UNSENT_WIDGET_TYPES,
    FrontendInput,
    section_inputs,
)


@dataclass(frozen=True)
class WidgetValue:
    """The value one input's widget holds after the frontend loaded the node."""

    spec: FrontendInput
    value: Any
    saved: bool  # False: no saved value reached it, the widget kept its default


@dataclass(frozen=True)
class _Slot:
    """One widget position: an input's value widget, or a companion that only takes a position."""

    spec: FrontendInput
    companion: Optional[str] = None  # "control", "filter", "refresh", "box", "button"; None: the value itself
    saved: bool = True  # False: the widget takes no position in `widgets_values`


def _slots(spec: FrontendInput) -> List[_Slot]:
    kind = spec.widget_type
    if kind is None or kind in UNSENT_WIDGET_TYPES:
        return []
    if kind in UNSAVED_WIDGET_TYPES:
        return [_Slot(spec, saved=False)]
    if kind in BUTTON_WIDGET_TYPES:
        return [_Slot(spec, "button")]
    slots = [_Slot(spec)]
    if kind == "BOUNDING_BOX":
        slots += [_Slot(spec, "box")] * len(BOX_FIELDS)
    if spec.has_refresh_button:
        slots.append(_Slot(spec, "refresh"))
    if spec.has_control:
        slots.append(_Slot(spec, "control"))
        if spec.has_filter_list:
            slots.append(_Slot(spec, "filter"))
    return slots


def assign(inputs: Sequence[FrontendInput], saved: Any) -> List[WidgetValue]:
    """The value of every widget input of a node, in widget order (dynamic sub-inputs after their combo)."""
    if isinstance(saved, dict):
        return _assign_by_name(inputs, saved)
    values: List[Any] = _drop_force_input_values(inputs, list(saved) if isinstance(saved, list) else [])
    pending: List[_Slot] = [slot for spec in inputs for slot in _slots(spec)]
    found: List[WidgetValue] = []
    position = 0
    while pending:
        slot = pending.pop(0)
        has_value = slot.saved and position < len(values)
        value = values[position] if has_value else slot.spec.default
        position += 1 if slot.saved else 0
        if slot.companion is not None:
            continue
        found.append(WidgetValue(slot.spec, value, has_value))
        if slot.spec.widget_type == DYNAMIC_COMBO:
            chosen = slot.spec.dynamic_options.get(str(value))
            if chosen is not None:
                added = section_inputs(chosen, f"{slot.spec.name}.")
                pending[0:0] = [s for spec in added for s in _slots(spec)]
    return found


def _assign_by_name(inputs: Sequence[FrontendInput], saved: Dict[str, Any]) -> List[WidgetValue]:
    found: List[WidgetValue] = []
    queue = [spec for spec in inputs if spec.widget_type is not None
             and spec.widget_type not in BUTTON_WIDGET_TYPES | UNSENT_WIDGET_TYPES]
    while queue:
        spec = queue.pop(0)
        value = saved.get(spec.name, spec.default)
        found.append(WidgetValue(spec, value, spec.name in saved))
        if spec.widget_type == DYNAMIC_COMBO:
            chosen = spec.dynamic_options.get(str(value))
            if chosen is not None:
                queue[0:0] = [s for s in section_inputs(chosen, f"{spec.name}.") if s.widget_type is not None]
    return found


def _drop_force_input_values(inputs: Sequence[FrontendInput], values: List[Any]) -> List[Any]:
    """Old frontends saved a value for `forceInput` inputs too; when the count says so, drop those."""
    if not any(spec.options.get("forceInput") for spec in inputs):
        return values
    flags: List[bool] = []
    for spec in inputs:
        forced = bool(spec.options.get("forceInput"))
        if spec.widget_type is None and not forced:
            continue
        flags += [forced, False] if spec.options.get("control_after_generate") else [forced]
    if len(flags) != len(values):
        return values
    return [value for value, forced in zip(values, flags) if not forced]
