"""A workflow's inputs as the artist sees them: every literal widget value, typed, keyed stably.

The Nuke node builds one knob per input, the CLI lists them (`nuke-comfyui inputs`) and sets them
(`render --set`). An input is a literal value of a node (links are wiring, not inputs), keyed
`<node id>.<input name>` so the key survives renames, reordering and a reload of a changed file.
Types come from a server's `/object_info` (INT/FLOAT min/max/step, STRING multiline, BOOLEAN,
COMBO options); without one, from the JSON value itself (`typed_by` says which). Seeds are
flagged (the seed strategy owns them), image loaders' file names are image inputs (see
`image_inputs`), and output nodes' `filename_prefix` is left out (each job gets its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.image_inputs import LOADER_CLASSES

BOOLEAN_WORDS = {"1": True, "true": True, "yes": True, "on": True,
                 "0": False, "false": False, "no": False, "off": False}


class InputValueError(WorkflowError):
    """A value that does not fit its input (message names the input, the value and the fix)."""


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

    def as_dict(self) -> Dict[str, Any]:
        """The CLI's `--json` row."""
        return {"node": self.node, "title": self.title, "input": self.name, "type": self.kind,
                "value": self.value, "options": list(self.options)}


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
        for name, value in node.get("inputs", {}).items():
            if wf.is_link(value):
                continue
            if class_type in LOADER_CLASSES and name == "image":
                continue
            if name == "filename_prefix" and (node_id in outputs or class_type.startswith("Save")):
                continue
            spec = oi.input_spec(info, class_type, name)
            item = WorkflowInput(key=f"{node_id}.{name}", node=node_id, title=node_title(workflow, node_id),
                                 class_type=class_type, name=name, kind=_kind_of(value), value=value,
                                 is_seed=_is_seed(name) and _kind_of(value) == "INT")
            if spec is not None and spec.is_widget:
                item = replace(item, kind=spec.kind, options=spec.options, minimum=spec.minimum,
                               maximum=spec.maximum, step=spec.step, multiline=spec.multiline,
                               typed_by="object_info")
            found.append(item)
    return found


def coerce(item: WorkflowInput, raw: Any) -> Any:
    """`raw` (text from the CLI or a knob's value) as the input's type; InputValueError if it does not fit."""
    where = f"input {item.key} ({item.title} > {item.name})"
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


def find_input(inputs: Sequence[WorkflowInput], reference: str) -> WorkflowInput:
    """The input named `NODE.INPUT`, NODE a node id or a title (or class type), case-insensitive."""
    node_ref, dot, name = reference.rpartition(".")
    if not dot or not node_ref or not name:
        raise InputValueError(f"{reference!r} must be NODE.INPUT (node id or title, then the input name), "
                              "e.g. 3.denoise or KSampler.steps")
    by_id = [i for i in inputs if i.node == node_ref and i.name == name]
    if by_id:
        return by_id[0]
    wanted = node_ref.strip().lower()
    matches = [i for i in inputs if i.name == name and wanted in (i.title.lower(), i.class_type.lower())]
    nodes = sorted({i.node for i in matches})
    if len(nodes) == 1:
        return matches[0]
    if len(nodes) > 1:
        raise InputValueError(f"{reference!r} matches several nodes ({', '.join(nodes)}); use the node id, "
                              f"e.g. {nodes[0]}.{name}")
    known = sorted({i.name for i in inputs if wanted in (i.node, i.title.lower(), i.class_type.lower())})
    if known:
        raise InputValueError(f"node {node_ref!r} has no input {name!r}; its inputs are {', '.join(known)}")
    raise InputValueError(f"no node {node_ref!r} in the workflow; `nuke-comfyui inputs WORKFLOW` lists them")


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


def check_keys(workflow: wf.Workflow, keys: Sequence[str]) -> None:
    """Every key names a literal input of the workflow, else InputValueError naming the first stray one."""
    for key in keys:
        node_id, _, name = key.rpartition(".")
        node = workflow.get(node_id)
        if node is None or name not in node.get("inputs", {}) or wf.is_link(node["inputs"][name]):
            raise InputValueError(f"input {key} is not a literal input of the workflow (it may have changed "
                                  "since the values were set); reload the workflow on the node")


def apply_values(prompt: wf.Workflow, values: Dict[str, Any]) -> None:
    """Set `{"<node>.<input>": value}` in the prompt, in place (unknown keys are refused by name)."""
    check_keys(prompt, list(values))
    for key, value in values.items():
        node_id, _, name = key.rpartition(".")
        prompt[node_id]["inputs"][name] = value


def missing_combo_values(inputs: Sequence[WorkflowInput], values: Dict[str, Any],
                         per_server: Dict[str, oi.ObjectInfo]) -> List[str]:
    """One line per (COMBO value, enabled server lacking it): e.g. a checkpoint gpu02 does not have."""
    problems: List[str] = []
    for item in inputs:
        if item.kind != "COMBO" or item.is_seed:
            continue
        value = values.get(item.key, item.value)
        for server in sorted(per_server):
            spec = oi.input_spec(per_server[server] or {}, item.class_type, item.name)
            if spec is not None and spec.options and value not in spec.options:
                problems.append(f"{item.title} > {item.name}: {value!r} is not on server {server}")
    return problems


@dataclass
class InputsView:
    """The inputs a node shows, after a sidecar chose and labelled them (all of them without one)."""

    inputs: List[WorkflowInput]
    hidden: List[WorkflowInput] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
