"""An independent check of an API prompt against `/object_info`, written from ComfyUI's own rules.

It does not use the conversion's modules: the V3 expansion here follows `get_finalized_class_inputs`
in ComfyUI 0.33's `comfy_api/latest/_io.py` (dynamic combo sub-inputs `name.sub` for the chosen
key, autogrow inputs `group.name` with the first `min` required), and `validate_inputs` in its
`execution.py` (links `[node id, output index]`, INT/FLOAT/BOOLEAN/STRING values of their type
within `min`/`max`). Returns a list of problems, empty when the prompt is sound.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

PRIMITIVE = {"INT", "FLOAT", "BOOLEAN", "STRING"}
#: types the frontend makes a widget for besides the primitives (their values are objects or text)
FRONTEND_WIDGETS = {"COMBO", "COLOR", "CURVE", "BOUNDING_BOX", "BOUNDING_BOXES", "COLORS", "IMAGECOMPARE",
                    "COMPOSITOR", "RANGE", "MARKDOWN", "TEXTAREA", "CHART", "GALLERIA", "VIDEO_EDIT",
                    "COMFY_DYNAMICCOMBO_V3"}


def _kind(raw: Any) -> Tuple[str, Dict[str, Any]]:
    options = raw[1] if isinstance(raw, list) and len(raw) > 1 and isinstance(raw[1], dict) else {}
    head = raw[0] if isinstance(raw, list) and raw else "*"
    return ("COMBO" if isinstance(head, list) else str(head)), options


def declared(entry: Dict[str, Any], inputs: Dict[str, Any]) -> Dict[str, Tuple[str, Dict[str, Any], bool]]:
    """{flat name: (type, options, required)} as the server expands the class for these inputs."""
    out: Dict[str, Tuple[str, Dict[str, Any], bool]] = {}

    def walk(block: Dict[str, Any], prefix: str) -> None:
        for section in ("required", "optional"):
            for name, raw in (block.get(section) or {}).items():
                kind, options = _kind(raw)
                full = prefix + name
                if kind == "COMFY_AUTOGROW_V3":
                    template = options.get("template") or {}
                    names = template.get("names") or [f"{template.get('prefix', '')}{i}"
                                                      for i in range(template.get("max", 10))]
                    inner = template.get("input") or {}
                    t_section = "required" if inner.get("required") else "optional"
                    t_kind, t_options = _kind(next(iter((inner.get(t_section) or {}).values()), ["*"]))
                    for index, item in enumerate(names):
                        out[f"{full}.{item}"] = (t_kind, t_options,
                                                 index < template.get("min", 1) and t_section == "required")
                    continue
                out[full] = (kind, options, section == "required")
                if kind == "COMFY_DYNAMICCOMBO_V3":
                    for option in options.get("options") or []:
                        if option.get("key") == inputs.get(full):
                            walk(option.get("inputs") or {}, full + ".")

    walk(entry.get("input") or {}, "")
    return out


def run_by_server(prompt: Dict[str, Dict[str, Any]], info: Dict[str, Any]) -> List[str]:
    """Ids of the nodes ComfyUI validates and runs: output nodes and what they depend on."""
    todo = [i for i, n in prompt.items() if (info.get(n.get("class_type")) or {}).get("output_node")]
    seen: List[str] = []
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in prompt:
            continue
        seen.append(node_id)
        todo += [str(v[0]) for v in (prompt[node_id].get("inputs") or {}).values() if isinstance(v, list)]
    return seen


def problems(prompt: Dict[str, Dict[str, Any]], info: Dict[str, Any]) -> List[str]:
    """Problems of the nodes the server will run (a dangling node the frontend also sends is ignored there)."""
    found: List[str] = []
    for node_id in run_by_server(prompt, info):
        node = prompt[node_id]
        entry = info.get(node.get("class_type"))
        if not isinstance(entry, dict):
            found.append(f"{node_id}: class {node.get('class_type')} unknown")
            continue
        inputs = node.get("inputs") or {}
        spec = declared(entry, inputs)
        for name, (_kind, _options, required) in spec.items():
            if required and name not in inputs:
                found.append(f"{node_id}.{name}: required input missing")
        for name, value in inputs.items():
            if name not in spec:
                continue  # an input the server ignores (a frontend-only widget)
            kind, options, _required = spec[name]
            widget = options.get("widgetType") or kind
            if isinstance(value, list):
                found += _link_problems(prompt, info, f"{node_id}.{name}", value, kind)
            elif widget in PRIMITIVE and not options.get("forceInput"):
                found += _literal_problems(f"{node_id}.{name}", value, widget, options)
            elif kind == "COMFY_DYNAMICCOMBO_V3":
                keys = [o.get("key") for o in options.get("options") or []]
                if value not in keys:
                    found.append(f"{node_id}.{name}: {value!r} is not one of {keys}")
            elif widget not in FRONTEND_WIDGETS and not _any_typed(kind, value):
                found.append(f"{node_id}.{name}: value {value!r} in a link-only input ({kind})")
    return found


def _any_typed(kind: str, value: Any) -> bool:
    """An input the server takes a plain value in: any-typed, or a type list naming the value's type."""
    if kind in ("*", "", "COMFY_MATCHTYPE_V3") or isinstance(value, dict):
        return True
    members = kind.split(",")
    return len(members) > 1 and any(not _literal_problems("", value, m, {}) for m in members if m in PRIMITIVE)


def _literal_problems(where: str, value: Any, kind: str, options: Dict[str, Any]) -> List[str]:
    ok = {"INT": isinstance(value, int) and not isinstance(value, bool),
          "FLOAT": isinstance(value, (int, float)) and not isinstance(value, bool),
          "BOOLEAN": isinstance(value, bool), "STRING": isinstance(value, str)}[kind]
    if kind == "INT" and isinstance(value, float) and value.is_integer():
        ok = True
    if not ok:
        return [f"{where}: {value!r} is not {kind}"]
    low, high = options.get("min"), options.get("max")
    if kind in ("INT", "FLOAT") and isinstance(low, (int, float)) and value < low:
        return [f"{where}: {value} < min {low}"]
    if kind in ("INT", "FLOAT") and isinstance(high, (int, float)) and value > high:
        return [f"{where}: {value} > max {high}"]
    return []


def _link_problems(prompt: Dict[str, Any], info: Dict[str, Any], where: str, value: List[Any],
                   wanted: str) -> List[str]:
    if len(value) != 2 or not isinstance(value[1], int) or str(value[0]) not in prompt:
        return [f"{where}: link {value!r} points at no node of the prompt"]
    source = prompt[str(value[0])]
    outputs = (info.get(source["class_type"]) or {}).get("output") or []
    if not 0 <= value[1] < len(outputs):
        return [f"{where}: link to output {value[1]} of {source['class_type']}, which has {len(outputs)}"]
    made = outputs[value[1]]
    made = "COMBO" if isinstance(made, list) else str(made)
    if not _compatible(made, wanted):
        return [f"{where}: a {made} output wired into a {wanted} input"]
    return []


def _compatible(made: str, wanted: str) -> bool:
    if made in ("*", "") or wanted in ("*", "") or made == wanted:
        return True
    if wanted in ("COMFY_MATCHTYPE_V3", "COMFY_DYNAMICCOMBO_V3") or made == "COMFY_MATCHTYPE_V3":
        return True
    return bool(set(made.split(",")) & set(wanted.split(",")))
