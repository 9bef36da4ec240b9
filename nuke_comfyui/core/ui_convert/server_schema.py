"""A class's inputs as the server expands them for one prompt: V3 dynamic inputs made flat.

ComfyUI's V3 schema declares inputs that grow: a dynamic combo (`COMFY_DYNAMICCOMBO_V3`) adds
the inputs of its chosen option, named `combo.sub`; an autogrow group (`COMFY_AUTOGROW_V3`) adds
`group.name` inputs (names listed, or a prefix and a count), the first `min` of them required.
The server expands them from the keys a prompt sends (`get_finalized_class_inputs` in
`comfy_api/latest/_io.py`) and validates the flat result. This module does the same so the
converted prompt can be checked, listed and re-edited with the inputs the server will see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from nuke_comfyui.core.ui_convert.frontend_defs import AUTOGROW, DYNAMIC_COMBO, mapping


@dataclass(frozen=True)
class ServerInput:
    """One flat input the server validates: `name` may be dotted (`format.bit_depth`, `images.image_1`)."""

    name: str
    type: str  # INT, FLOAT, STRING, BOOLEAN, COMBO, a socket type, or a comma list of socket types
    required: bool
    options: Mapping[str, Any]
    choices: Tuple[Any, ...] = ()
    dynamic_parent: str = ""  # the dynamic combo whose option brought it ("" at the top level)

    @property
    def is_widget_type(self) -> bool:
        return self.type in ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")


def _raw_kind(raw: Any) -> Tuple[str, Dict[str, Any], Tuple[Any, ...]]:
    if not isinstance(raw, (list, tuple)) or not raw:
        return "*", {}, ()
    options = dict(raw[1]) if len(raw) > 1 and isinstance(raw[1], dict) else {}
    if isinstance(raw[0], (list, tuple)):
        return "COMBO", options, tuple(raw[0])
    kind = str(raw[0])
    if kind == "COMBO":
        return kind, options, tuple(options.get("options") or ())
    if kind == DYNAMIC_COMBO:
        return kind, options, tuple(str(o.get("key")) for o in options.get("options") or () if isinstance(o, dict))
    return kind, options, ()


def expand(entry: Mapping[str, Any], live: Mapping[str, Any]) -> List[ServerInput]:
    """The flat inputs of a class (`/object_info` entry) for a prompt whose inputs are `live`."""
    declared = mapping(entry.get("input"))
    found: List[ServerInput] = []
    _expand_block({k: v for k, v in declared.items() if k in ("required", "optional")}, live, "", "", found)
    return found


def _expand_block(block: Mapping[str, Any], live: Mapping[str, Any], prefix: str, parent: str,
                  found: List[ServerInput]) -> None:
    for section in ("required", "optional"):
        inputs = block.get(section)
        if not isinstance(inputs, dict):
            continue
        for name, raw in inputs.items():
            full = f"{prefix}{name}"
            kind, options, choices = _raw_kind(raw)
            if kind == DYNAMIC_COMBO:
                found.append(ServerInput(full, kind, section == "required", options, choices, parent))
                chosen = _option_inputs(options, live.get(full))
                if chosen is not None:
                    _expand_block(chosen, live, f"{full}.", full, found)
            elif kind == AUTOGROW:
                found.extend(_autogrow(full, options, parent))
            else:
                found.append(ServerInput(full, kind, section == "required", options, choices, parent))


def _option_inputs(options: Mapping[str, Any], key: Any) -> Optional[Mapping[str, Any]]:
    for option in options.get("options") or ():
        if isinstance(option, dict) and option.get("key") == key:
            return mapping(option.get("inputs"))
    return None


def autogrow_names(options: Mapping[str, Any]) -> List[str]:
    """The names an autogrow group's inputs take (`names`, else `prefix` + 0..max-1)."""
    template = mapping(options.get("template"))
    names = template.get("names")
    if isinstance(names, list):
        return [str(n) for n in names][:100]
    prefix = str(template.get("prefix", ""))
    count = template.get("max", 10)
    return [f"{prefix}{i}" for i in range(count if isinstance(count, int) else 10)]


def _autogrow(group: str, options: Mapping[str, Any], parent: str) -> Iterable[ServerInput]:
    """The group's possible inputs; the first `min` are required when the template input is
    (the server decides so whatever the group itself is declared as)."""
    template = mapping(options.get("template"))
    spec = mapping(template.get("input"))
    raw: Any = None
    template_required = True
    for section in ("required", "optional"):
        block = spec.get(section)
        if isinstance(block, dict) and block:
            raw = next(iter(block.values()))
            template_required = section == "required"
            break
    kind, item_options, choices = _raw_kind(raw)
    minimum = template.get("min", 1)
    minimum = minimum if isinstance(minimum, int) else 1
    for index, name in enumerate(autogrow_names(options)):
        required = index < minimum and template_required
        yield ServerInput(f"{group}.{name}", kind, required, item_options, choices, parent)


def by_name(entry: Mapping[str, Any], live: Mapping[str, Any]) -> Dict[str, ServerInput]:
    """`expand` as a dict keyed by flat input name."""
    return {item.name: item for item in expand(entry, live)}
