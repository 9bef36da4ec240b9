"""Checks on a converted prompt that turn a silently wrong graph into a refusal that names the node.

A widget walk that met a node saved by another version of its class shifts values onto the
wrong inputs; the server might accept some of them and render the wrong picture. Every node the
server will run (those feeding an output node) is checked against the server's declaration,
expanded like the server expands V3 inputs:

- a dynamic combo holds one of its declared keys (else its sub-inputs are unknowable);
- a socket-only input gets a link, never a typed value;
- an INT, FLOAT, BOOLEAN or STRING value has that type and lies within `min`/`max`;
- every required input is there;
- a link points at an output slot its source class has.

Combo choices that depend on what a server has installed (checkpoints, ...) are judged per
server elsewhere (`core/combo_check.py`), not here.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Set

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.ui_convert import marks, server_schema
from nuke_comfyui.core.ui_convert.frontend_defs import DYNAMIC_COMBO, MATCH_TYPE, WIDGET_TYPES

Prompt = Dict[str, Dict[str, Any]]
PRIMITIVES = ("INT", "FLOAT", "BOOLEAN", "STRING", "COMBO")
ANY_TYPES = ("*", "", MATCH_TYPE)


def label(prompt: Prompt, node_id: str) -> str:
    """`node 5:3 (KSampler, 'Detailer > Sampler')` (with the path separator): id, class, readable path."""
    node = prompt[node_id]
    title = node.get("_meta", {}).get("title") or ""
    shown = marks.SEPARATOR.join([*marks.path(node), title] if title else marks.path(node))
    return f"node {node_id} ({node['class_type']}{', ' + repr(shown) if shown else ''})"


def feeding_outputs(prompt: Prompt, info: oi.ObjectInfo) -> List[str]:
    """Ids of the nodes the server will run: output nodes and everything upstream of them."""
    todo = [i for i, n in prompt.items() if isinstance(info.get(n["class_type"]), dict)
            and info[n["class_type"]].get("output_node")]
    seen: Set[str] = set()
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in prompt:
            continue
        seen.add(node_id)
        for value in prompt[node_id]["inputs"].values():
            if _is_link(value):
                todo.append(str(value[0]))
    return [i for i in prompt if i in seen]


def check(prompt: Prompt, info: oi.ObjectInfo, where: str) -> None:
    """Raise WorkflowError naming the first node and input that the server would not take as meant."""
    for node_id in feeding_outputs(prompt, info):
        node = prompt[node_id]
        entry = info[node["class_type"]]
        inputs: Mapping[str, Any] = node["inputs"]
        declared = server_schema.by_name(entry, inputs)
        for name, value in inputs.items():
            spec = declared.get(name)
            if spec is not None:
                problem = _value_problem(spec, value, prompt, info)
                if problem:
                    raise WorkflowError(f"{where}: {label(prompt, node_id)} input {name!r} {problem}")
        missing = [s.name for s in declared.values() if s.required and s.name not in inputs]
        if missing:
            raise WorkflowError(f"{where}: {label(prompt, node_id)} lacks required input(s) {', '.join(missing)}; "
                                "connect or set them in ComfyUI and save again")


def _value_problem(spec: server_schema.ServerInput, value: Any, prompt: Prompt, info: oi.ObjectInfo) -> str:
    if _is_link(value):
        return _link_problem(value, prompt, info)
    if spec.type == DYNAMIC_COMBO:
        if value not in spec.choices:
            shown = ", ".join(repr(c) for c in spec.choices[:8])
            return (f"is {value!r}, which this server's node does not offer ({shown}); the workflow was saved with "
                    "another version of the node: update ComfyUI on the servers or pick an offered choice in ComfyUI")
        return ""
    widget = str(spec.options.get("widgetType") or "")
    if widget in PRIMITIVES or spec.type in PRIMITIVES:
        return _literal_problem(spec, widget or spec.type, value)
    if spec.type in WIDGET_TYPES or widget in WIDGET_TYPES or spec.type in ANY_TYPES:
        return ""  # a value of a frontend widget type (colour, curve, box...) or an any-typed input
    members = [m.strip() for m in spec.type.split(",")]
    if len(members) > 1 and any(m in PRIMITIVES and not _literal_problem(spec, m, value) for m in members):
        return ""  # a multi-typed input (`FLOAT,INT`) given a value of one of its types
    return f"holds the value {_short(value)} where this server's node takes a link ({spec.type}); {_RESAVE}"


def _literal_problem(spec: server_schema.ServerInput, kind: str, value: Any) -> str:
    if kind == "COMBO" or (value is None and not spec.required):
        return ""
    ok = {
        "INT": (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and value.is_integer()),
        "FLOAT": isinstance(value, (int, float)) and not isinstance(value, bool),
        "BOOLEAN": isinstance(value, bool),
        "STRING": isinstance(value, str),
    }.get(kind, True)
    if not ok:
        article = "an" if kind == "INT" else "a"
        return f"holds {_short(value)}, not {article} {kind.lower()} value as the server declares; {_RESAVE}"
    if kind in ("INT", "FLOAT"):
        low, high = spec.options.get("min"), spec.options.get("max")
        if _number(low) and value < low:
            return f"is {value}, below the server's minimum {low}; set it in ComfyUI and save again"
        if _number(high) and value > high:
            return f"is {value}, above the server's maximum {high}; set it in ComfyUI and save again"
    return ""


def _link_problem(value: List[Any], prompt: Prompt, info: oi.ObjectInfo) -> str:
    source = prompt.get(str(value[0]))
    if source is None:
        return f"links to node {value[0]}, which is not in the prompt"
    outputs = oi.output_types(info, source["class_type"])
    if outputs and not 0 <= int(value[1]) < len(outputs):
        return (f"links to output {value[1]} of node {value[0]} ({source['class_type']}), which has {len(outputs)} "
                f"on this server; {_RESAVE}")
    return ""


_RESAVE = ("the workflow was saved with another version of this node; update ComfyUI on the servers, or open "
           "and save the workflow with the servers' version")


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int) and not isinstance(value[1], bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
