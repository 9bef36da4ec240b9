"""A workflow's inputs as the artist sees them: every literal widget value, typed, keyed stably.

The Nuke node builds one knob per input, the CLI lists them (`nuke-comfyui inputs`) and sets them
(`render --set`). An input is a literal value of a node (links are wiring, not inputs), keyed
`<node id>.<input name>` so the key survives renames, reordering and a reload of a changed file
(node ids of a converted subgraph are `instance:inner`, input names of V3 dynamic inputs are
dotted; `input_addressing` says how keys split and how NODE may be named).
Types come from a server's `/object_info` (INT/FLOAT min/max/step, STRING multiline, BOOLEAN,
COMBO options); without one, from the JSON value itself (`typed_by` says which). Seeds are
flagged (the seed strategy owns them), image loaders' file names are image inputs (see
`image_inputs`), and output nodes' `filename_prefix` is left out (each job gets its own).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.core import dynamic_combos
from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.image_inputs import LOADER_CLASSES
from nuke_comfyui.core.input_addressing import InputValueError, find_input, readable, split_key
from nuke_comfyui.core.ui_convert import marks, server_schema
from nuke_comfyui.core.ui_convert.frontend_defs import DYNAMIC_COMBO

BOOLEAN_WORDS = {"1": True, "true": True, "yes": True, "on": True,
                 "0": False, "false": False, "no": False, "off": False}


__all__ = [
    "InputValueError",
    "InputsView",
    "WorkflowInput",
    "apply_dynamic_choices",
    "apply_values",
    "check_keys",
    "coerce",
    "find_input",
    "list_inputs",
    "parse_assignments",
    "readable",
]


@dataclass(frozen=True)
class WorkflowInput:
    """One literal input of one node of the workflow."""

    key: str  # "<node id>.<input name>": stable across reloads
    node: str
    title: str  # _meta.title, else the class type
    class_type: str
    name: str
    kind: str  # INT, FLOAT, STRING, BOOLEAN, COMBO (or JSON for lists/objects kept as they are)
    value: Any
    options: Tuple[Any, ...] = ()
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    step: Optional[float] = None
    multiline: bool = False
    is_seed: bool = False
    typed_by: str = "json"  # "object_info" when a server described it
    label: str = ""  # a sidecar's label; empty = the input name
    path: Tuple[str, ...] = ()  # titles of the subgraph instances around the node, outermost first
    dynamic: bool = False  # a dynamic combo: choosing another key rebuilds its `name.*` inputs

    def as_dict(self) -> Dict[str, Any]:
        """The CLI's `--json` row."""
        row = {"node": self.node, "title": self.title, "input": self.name, "type": self.kind,
               "value": self.value, "options": list(self.options)}
        if self.path:
            row["path"] = list(self.path)
        if self.dynamic:
            row["dynamic"] = True
        return row


def node_title(workflow: wf.Workflow, node_id: str) -> str:
    return wf.title(workflow[node_id]) or str(workflow[node_id]["class_type"])


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INT"
    if isinstance(value, float):
        return "FLOAT"
    if isinstance(value, str):
        return "STRING"
    return "JSON"


def _is_seed(name: str) -> bool:
    return name in wf.SEED_NAMES or name.endswith("_seed")


def list_inputs(workflow: wf.Workflow, info: Optional[oi.ObjectInfo] = None) -> List[WorkflowInput]:
    """Every literal input, node by node in the workflow's order, inputs in each node's order."""
    info = info or {}
    outputs = set(wf.find_output_nodes(workflow)) if any(
        wf.is_output_class(n["class_type"]) for n in workflow.values()) else set()
    found: List[WorkflowInput] = []
    for node_id, node in workflow.items():
        class_type = str(node["class_type"])
        entry = info.get(class_type)
        declared = server_schema.by_name(entry, node.get("inputs", {})) if isinstance(entry, dict) else {}
        for name, value in node.get("inputs", {}).items():
            if wf.is_link(value):
                continue
            if class_type in LOADER_CLASSES and name == "image":
                continue
            if name == "filename_prefix" and (node_id in outputs or class_type.startswith("Save")):
                continue
            item = WorkflowInput(key=f"{node_id}.{name}", node=node_id, title=node_title(workflow, node_id),
                                 class_type=class_type, name=name, kind=_kind_of(value), value=value,
                                 is_seed=_is_seed(name) and _kind_of(value) == "INT",
                                 path=tuple(marks.path(node)))
            found.append(_typed(item, declared.get(name), node))
    return found


def _typed(item: WorkflowInput, spec: Optional[server_schema.ServerInput], node: Dict[str, Any]) -> WorkflowInput:
    """The item typed by the server's declaration (V3 inputs expanded as the server expands them)."""
    if spec is None:
        keys = dynamic_combos.keys_of(node, item.name)
        return replace(item, kind="COMBO", options=tuple(keys), dynamic=True) if keys else item
    kind = str(spec.options.get("widgetType") or spec.type)
    if spec.type == DYNAMIC_COMBO:
        return replace(item, kind="COMBO", options=spec.choices, dynamic=True, typed_by="object_info")
    if kind not in ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO") or spec.options.get("forceInput"):
        return item

    def number(key: str) -> Optional[float]:
        value = spec.options.get(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    return replace(item, kind=kind, options=spec.choices, minimum=number("min"), maximum=number("max"),
                   step=number("step"), multiline=bool(spec.options.get("multiline")), typed_by="object_info")


def coerce(item: WorkflowInput, raw: Any) -> Any:
    """`raw` (text from the CLI or a knob's value) as the input's type; InputValueError if it does not fit."""
    where = f"input {item.key} ({readable(item, ' > ')})"
    text = raw.strip() if isinstance(raw, str) else raw
    try:
        if item.kind == "INT":
            value: Any = int(float(text)) if isinstance(text, float) and float(text).is_integer() else int(text)
        elif item.kind == "FLOAT":
            value = float(text)
        elif item.kind == "BOOLEAN":
            value = text if isinstance(text, bool) else BOOLEAN_WORDS[str(text).lower()]
        else:
            value = raw if isinstance(raw, str) or item.kind == "JSON" else str(raw)
    except (TypeError, ValueError, KeyError):
        hint = {"INT": "a whole number", "FLOAT": "a number", "BOOLEAN": "true or false"}.get(item.kind, "text")
        raise InputValueError(f"{where} takes {hint}, not {raw!r}") from None
    if isinstance(value, bool) and item.kind in ("INT", "FLOAT"):
        raise InputValueError(f"{where} takes a number, not {raw!r}")
    if item.kind in ("INT", "FLOAT"):
        if item.minimum is not None and value < item.minimum:
            raise InputValueError(f"{where}: {value} is below the minimum {item.minimum}")
        if item.maximum is not None and value > item.maximum:
            raise InputValueError(f"{where}: {value} is above the maximum {item.maximum}")
    if item.kind == "COMBO" and item.options and value not in item.options:
        shown = ", ".join(str(o) for o in item.options[:8]) + (", ..." if len(item.options) > 8 else "")
        raise InputValueError(f"{where}: {value!r} is not one of the server's choices ({shown})")
    return value


def parse_assignments(inputs: Sequence[WorkflowInput], assignments: Sequence[str]) -> Dict[str, Any]:
    """`NODE.INPUT=VALUE` texts (the CLI's `--set`) as {key: typed value}."""
    values: Dict[str, Any] = {}
    for text in assignments:
        reference, eq, raw = text.partition("=")
        if not eq:
            raise InputValueError(f"--set {text!r} must be NODE.INPUT=VALUE, e.g. --set 3.denoise=0.5")
        item = find_input(inputs, reference.strip())
        if item.is_seed:
            raise InputValueError(f"{item.key} is a seed; use --base-seed and --seed-strategy for seeds")
        values[item.key] = coerce(item, raw)
    return values


def parse_assignments_for(workflow: wf.Workflow, info: Optional[oi.ObjectInfo],
                          assignments: Sequence[str]) -> Dict[str, Any]:
    """`parse_assignments` where a dynamic combo set on the same command line brings its own inputs:
    `--set 5.format=exr --set 5.format.input_color_space=linear` (the second exists only for exr)."""
    inputs = list_inputs(workflow, info)
    dynamic = {i.key for i in inputs if i.dynamic}
    first: List[str] = []
    for text in assignments:
        reference = text.partition("=")[0].strip()
        try:
            if find_input(inputs, reference).key in dynamic:
                first.append(text)
        except InputValueError:
            continue  # named an input that a dynamic choice brings: parsed in the second pass
    values = parse_assignments(inputs, first)
    if values:
        rebuilt = json.loads(json.dumps(workflow))
        _apply_dynamic(rebuilt, values)
        inputs = list_inputs(rebuilt, info)
    values.update(parse_assignments(inputs, [t for t in assignments if t not in first]))
    return values


def check_keys(workflow: wf.Workflow, keys: Sequence[str], values: Optional[Dict[str, Any]] = None) -> None:
    """Every key names a literal input of the workflow, else InputValueError naming the first stray one.

    Dynamic combos among `values` are applied first (on a copy): a key of the option they choose
    (`5.format.bit_depth` once `5.format` is "exr") is then a literal input too."""
    if values and any(_is_dynamic(workflow, key) for key in values):
        workflow = json.loads(json.dumps(workflow))
        _apply_dynamic(workflow, values)
    for key in keys:
        node_id, name = split_key(workflow, key)
        node = workflow.get(node_id)
        if node is None or name not in node.get("inputs", {}) or wf.is_link(node["inputs"][name]):
            raise InputValueError(f"input {key} is not a literal input of the workflow (it may have changed "
                                  "since the values were set); reload the workflow on the node")


def apply_values(prompt: wf.Workflow, values: Dict[str, Any]) -> None:
    """Set `{"<node>.<input>": value}` in the prompt, in place (unknown keys are refused by name).

    A dynamic combo's new key rebuilds its sub-inputs first (`dynamic_combos.set_choice`), then the
    other values land, so a sub-input set together with its combo keeps the artist's value."""
    check_keys(prompt, list(values), values)
    _apply_dynamic(prompt, values)
    for key, value in values.items():
        if not _is_dynamic(prompt, key):
            node_id, name = split_key(prompt, key)
            prompt[node_id]["inputs"][name] = value


def _is_dynamic(workflow: wf.Workflow, key: str) -> bool:
    node_id, name = split_key(workflow, key)
    node = workflow.get(node_id)
    return node is not None and dynamic_combos.options_of(node, name) is not None


def apply_dynamic_choices(workflow: wf.Workflow, values: Dict[str, Any]) -> None:
    """Apply, in place, only the dynamic-combo keys among `values` (unknown or other keys are skipped)."""
    known = {key: value for key, value in values.items() if _is_dynamic(workflow, key)
             and value in dynamic_combos.keys_of(workflow[split_key(workflow, key)[0]], split_key(workflow, key)[1])}
    _apply_dynamic(workflow, known)


def _apply_dynamic(workflow: wf.Workflow, values: Dict[str, Any]) -> None:
    """Set the dynamic combos among `values`, outer combos before the ones nested in their options."""
    dynamic = sorted((k for k in values if _is_dynamic(workflow, k)), key=lambda k: k.count("."))
    for key in dynamic:
        node_id, name = split_key(workflow, key)
        dynamic_combos.set_choice(workflow[node_id], name, values[key])


@dataclass
class InputsView:
    """The inputs a node shows, after a sidecar chose and labelled them (all of them without one)."""

    inputs: List[WorkflowInput]
    hidden: List[WorkflowInput] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
