"""Dynamic combos (`COMFY_DYNAMICCOMBO_V3`): a choice that brings its own inputs, kept right when it changes.

A dynamic combo's chosen key decides which sub-inputs the node has (`format: "exr"` brings
`format.bit_depth` and `format.input_color_space`; `format: "png"` others). When an artist
changes the key (a knob, `--set`, a per-frame value), the node's sub-inputs are rebuilt the way
the frontend rebuilds its widgets: the new option's inputs are added with their defaults, those
of the old option that the new one lacks are removed, and values whose name the new option
keeps stay as they were (when they still fit its type and choices).

The options are copied from `/object_info` into the prompt's private marks (`annotate`) when the
workflow is loaded with a server's description, so a job can be rebuilt later (a resumed render,
a farm task) without asking a server again.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from nuke_comfyui.core.ui_convert import marks, server_schema
from nuke_comfyui.core.ui_convert.frontend_defs import DYNAMIC_COMBO, from_v1

MARK = "dynamic_combos"  # {combo input name: [option, ...]} as /object_info declares the options
Prompt = Dict[str, Dict[str, Any]]


def annotate(prompt: Prompt, info: Mapping[str, Any]) -> None:
    """Copy the options of every dynamic combo a node uses into its marks (in place)."""
    for node in prompt.values():
        entry = info.get(node.get("class_type", ""))
        if not isinstance(entry, dict):
            continue
        found = {item.name: list(item.options.get("options") or [])
                 for item in server_schema.expand(entry, node.get("inputs", {})) if item.type == DYNAMIC_COMBO}
        if found:
            marks.put(node, MARK, found)


def options_of(node: Dict[str, Any], name: str) -> Optional[List[Dict[str, Any]]]:
    """The declared options of the node's dynamic combo `name`, or None when it is not one."""
    found = marks.get(node, MARK)
    options = found.get(name) if isinstance(found, dict) else None
    return options if isinstance(options, list) else None


def keys_of(node: Dict[str, Any], name: str) -> List[str]:
    return [str(o.get("key")) for o in options_of(node, name) or () if isinstance(o, dict)]


def _declaration(node: Dict[str, Any]) -> Dict[str, Any]:
    """A stand-in class declaration holding only the node's dynamic combos (enough to expand them)."""
    required: Dict[str, Any] = {}
    for name, options in (marks.get(node, MARK) or {}).items():
        if "." not in name:
            required[name] = [DYNAMIC_COMBO, {"options": options}]
    return {"input": {"required": required}}


def set_choice(node: Dict[str, Any], name: str, key: Any) -> None:
    """Set dynamic combo `name` to `key` and rebuild its sub-inputs in place (see the module's rules)."""
    inputs: Dict[str, Any] = node.setdefault("inputs", {})
    inputs[name] = key
    after = {item.name: item for item in server_schema.expand(_declaration(node), inputs)}
    prefix = f"{name}."
    for old in [n for n in inputs if n.startswith(prefix) and n not in after]:
        del inputs[old]  # the old option's inputs go, links included, as the frontend removes them
    for new_name, item in after.items():
        if not new_name.startswith(prefix):
            continue
        if new_name in inputs and _fits(item, inputs[new_name]):
            continue
        spec = from_v1(new_name, [item.type, dict(item.options)], not item.required)
        if spec.widget_type is not None:
            inputs[new_name] = spec.default
    _refresh_marks(node)


def _refresh_marks(node: Dict[str, Any]) -> None:
    """Nested dynamic combos of the new option join the marks (their options come with the parent's)."""
    found = dict(marks.get(node, MARK) or {})
    for item in server_schema.expand(_declaration(node), node.get("inputs", {})):
        if item.type == DYNAMIC_COMBO:
            found[item.name] = list(item.options.get("options") or [])
    marks.put(node, MARK, found)


def is_value(value: Any) -> bool:
    """A typed value (not a link `[node, slot]`)."""
    return not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], int))


def _fits(item: server_schema.ServerInput, value: Any) -> bool:
    if not is_value(value):
        return True  # a link stays a link
    if item.choices:
        return value in item.choices
    kind = item.type
    if kind == "INT":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "FLOAT":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "BOOLEAN":
        return isinstance(value, bool)
    if kind == "STRING":
        return isinstance(value, str)
    return True
