"""Which servers can take a render's COMBO values (checkpoints, LoRAs, samplers, ...), before it is sent.

The scheduler places jobs by node classes only. A COMBO value a server does not list (a
checkpoint it lacks) is a validation error there: HTTP 400, which is never retried, so the frame
would fail although another server could have rendered it. Checking every value the render
will send (each frame's, when a knob is animated) against each server's cached `/object_info`
lets the caller keep the render to the servers that pass, or refuse it when none does, naming
the input, the value and the server. A server whose `/object_info` is unknown is not judged here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Sequence

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core.workflow_inputs import WorkflowInput


@dataclass
class ComboVerdict:
    """Servers (of those with a known /object_info) that have every value, and what the others lack."""

    passing: List[str] = field(default_factory=list)
    lacking: Dict[str, List[str]] = field(default_factory=dict)  # server -> "Title > input: 'value'"


def check_servers(inputs: Sequence[WorkflowInput], values: Mapping[str, Iterable[Any]],
                  per_server: Dict[str, oi.ObjectInfo]) -> ComboVerdict:
    """Judge each server; `values` maps input keys to every value the render sends (file's value otherwise)."""
    verdict = ComboVerdict()
    for server in sorted(per_server):
        lines: List[str] = []
        for item in inputs:
            if item.kind != "COMBO" or item.is_seed:
                continue
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
