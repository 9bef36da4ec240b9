"""The Workflow tab's dynamic combos: choosing another key rebuilds the knobs under it, keeping values.

A dynamic combo (`COMFY_DYNAMICCOMBO_V3`, e.g. SaveImageAdvanced's `format`) shows as a pull-down
whose choice decides which knobs follow it (`format.bit_depth`, ...). When the artist picks
another key, the node's knobChanged (host/workflow_events) rebuilds the tab: the workflow is
loaded again, the pull-downs' current keys are applied to it (`with_choices`), and the tab is
built from that, so the new option's knobs appear with their defaults, the old option's go, and
knobs whose input the new option keeps hold the artist's values (the tab's usual rule for
edits). The knobs of a node inside subgraphs are headed by its path (`header`).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.workflow_inputs import WorkflowInput, apply_dynamic_choices

SOURCE = "workflow_source"  # host/workflow_tab's hidden record; "dynamic" lists the dynamic combos' keys
KEYS = "workflow_keys"
SEPARATOR = " \u203a "


def header(item: WorkflowInput) -> str:
    """The heading of an input's node: subgraph titles then the node title, joined by the separator."""
    return SEPARATOR.join([*item.path, item.title])


def _record(node: Any, name: str) -> Dict[str, Any]:
    knob = node.knobs().get(name)
    try:
        data = json.loads(knob.getText()) if knob is not None and knob.getText() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def dynamic_knobs(node: Any) -> Dict[str, str]:
    """{knob name: input key} of the tab's dynamic combo pull-downs."""
    dynamic = set(_record(node, SOURCE).get("dynamic") or ())
    return {name: key for name, key in _record(node, KEYS).items() if key in dynamic}


def is_dynamic_knob(node: Any, knob_name: str) -> bool:
    return knob_name in dynamic_knobs(node)


def with_choices(node: Any, workflow: wf.Workflow) -> wf.Workflow:
    """The workflow with the tab's current dynamic-combo choices applied (in place; it is returned too)."""
    choices = {key: node[name].value() for name, key in dynamic_knobs(node).items() if name in node.knobs()}
    apply_dynamic_choices(workflow, choices)
    return workflow


def dynamic_keys(inputs: List[WorkflowInput]) -> List[str]:
    """Keys of the dynamic combos among a tab's inputs (what `SOURCE`'s "dynamic" records)."""
    return [item.key for item in inputs if item.dynamic]
