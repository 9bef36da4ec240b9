"""Which servers can take a render's COMBO values (checkpoints, LoRAs, samplers, ...), before it is sent.

The scheduler places jobs by node classes only. A COMBO value a server does not list (a
checkpoint it lacks) is a validation error there: HTTP 400, which is never retried, so the frame
would fail although another server could have rendered it. Checking every value the render
will send (each frame's, when a knob is animated) against each server's cached `/object_info`
lets the caller keep the render to the servers that pass, or refuse it when none does, naming
the input, the value and the server. A server whose `/object_info` is unknown is not judged here.

Judged as ComfyUI judges (measured on a real 0.33.0 against 749 official templates, see
tests/core/ui_convert/test_templates_real_verdicts.py): only the nodes it runs, the output nodes
and what feeds them (a dangling loader's missing checkpoint stops nothing), and not the inputs a
node validates itself, where ComfyUI skips its list check (SERVER_VALIDATED).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core.input_addressing import readable
from nuke_comfyui.core.ui_convert.prompt_checks import feeding_outputs
from nuke_comfyui.core.workflow_inputs import WorkflowInput

#: COMBO inputs whose node has its own validator taking that input, which replaces ComfyUI's list
#: check and lets values the list lacks through (ComfyUI 0.33.0 source: ModelAttentionBackend's
#: VALIDATE_INPUTS in comfy_extras/nodes_model_advanced.py, the Select*Device nodes' validate_inputs
#: in comfy_extras/nodes_multigpu.py, CustomCombo's in comfy_extras/nodes_logic.py)
SERVER_VALIDATED = frozenset({
    ("ModelAttentionBackend", "attention"),
    ("SelectModelDevice", "device"), ("SelectCLIPDevice", "device"), ("SelectVAEDevice", "device"),
    ("CustomCombo", "choice"),
})


def nodes_the_server_runs(workflow: Mapping[str, Any], info: oi.ObjectInfo) -> Optional[Set[str]]:
    """Ids of the nodes ComfyUI validates: those its /object_info marks `output_node`, and every node
    upstream of them. None when a class is unknown, or no node is marked an output (then every node
    is judged: a server that does not say which nodes it runs must not make the check say nothing)."""
    if not info or any(not isinstance(info.get(str(node.get("class_type"))), dict) for node in workflow.values()):
        return None
    return set(feeding_outputs(dict(workflow), info)) or None


@dataclass
class ComboVerdict:
    """Servers (of those with a known /object_info) that have every value, and what the others lack."""

    passing: List[str] = field(default_factory=list)
    lacking: Dict[str, List[str]] = field(default_factory=dict)  # server -> "Title > input: 'value'"


def missing_combo_values(inputs: Sequence[WorkflowInput], values: Dict[str, Any],
                         per_server: Dict[str, oi.ObjectInfo], runs: Optional[Set[str]] = None) -> List[str]:
    """One line per (COMBO value, enabled server lacking it): e.g. a checkpoint gpu02 does not have."""
    problems: List[str] = []
    for item in _judged(inputs, runs):
        value = values.get(item.key, item.value)
        for server in sorted(per_server):
            spec = oi.input_spec(per_server[server] or {}, item.class_type, item.name)
            if spec is not None and spec.options and value not in spec.options:
                problems.append(f"{readable(item, ' > ')}: {value!r} is not on server {server}")
    return problems


def _judged(inputs: Sequence[WorkflowInput], runs: Optional[Set[str]]) -> List[WorkflowInput]:
    """The COMBO inputs ComfyUI checks against its list (seeds aside): see the module's docstring."""
    return [item for item in inputs if item.kind == "COMBO" and not item.is_seed
            and (item.class_type, item.name) not in SERVER_VALIDATED and (runs is None or item.node in runs)]


def check_servers(inputs: Sequence[WorkflowInput], values: Mapping[str, Iterable[Any]],
                  per_server: Dict[str, oi.ObjectInfo], runs: Optional[Set[str]] = None) -> ComboVerdict:
    """Judge each server; `values` maps input keys to every value the render sends (file's value
    otherwise); `runs` the ids of the nodes the server runs (nodes_the_server_runs; None: all)."""
    verdict = ComboVerdict()
    judged = _judged(inputs, runs)
    for server in sorted(per_server):
        lines: List[str] = []
        for item in judged:
            spec = oi.input_spec(per_server[server] or {}, item.class_type, item.name)
            if spec is None or not spec.options:
                continue
            sent = values.get(item.key, [item.value])
            for value in _unique(sent):
                if value not in spec.options:
                    lines.append(f"{item.title} > {item.name}: {value!r}")
        if lines:
            verdict.lacking[server] = lines
        else:
            verdict.passing.append(server)
    return verdict


def _unique(values: Iterable[Any]) -> List[Any]:
    seen: List[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen
