"""ComfyUI's normal workflow files (the frontend's Save) converted to the API prompt the frontend would queue.

Artists save with Workflow > Save, not Export (API), often starting from ComfyUI's official
templates. Those files keep the graph as the editor draws it; the frontend turns it into the
API prompt only when it queues (`graphToPrompt`, frontend 1.49 as shipped with ComfyUI 0.33).
This package does the same, one job per module:

- `ui_graph`: the file read into nodes, links and subgraph definitions;
- `frontend_defs`, `widget_values`: which saved value belongs to which input (the frontend's
  positional widget walk, with control widgets, upload buttons and V3 dynamic combos);
- `execution_graph`: subgraphs opened into `instance:inner` execution ids, every input traced
  through subgraph proxies, bypassed and muted nodes, reroutes;
- `node_widgets`, `helper_nodes`: widget values per node, promoted widgets of subgraph
  instances, legacy PrimitiveNodes, Get/Set variables, notes;
- `emit`: the prompt itself; `prompt_checks`: a shifted or half-understood node is refused by
  name rather than sent wrong; `server_schema`: V3 inputs expanded as the server expands them;
- `dynamic_prompts`: `{a|b}` choices made per job from its seed; `marks`: what the conversion
  remembers in `_meta` (removed before sending).

What cannot be converted faithfully is refused with a WorkflowError naming the node, the reason
and what to do. docs/WORKFLOWS.md describes the rules for users.
"""

from __future__ import annotations

from typing import Any, Dict

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.ui_convert import emit, prompt_checks, ui_graph
from nuke_comfyui.core.ui_convert.execution_graph import ExecutionGraph
from nuke_comfyui.core.ui_convert.node_widgets import Widgets

Prompt = Dict[str, Dict[str, Any]]
EXPORT_HINT = emit.EXPORT_HINT


def is_ui_workflow(data: Any) -> bool:
    """The frontend's saved format: a graph of `nodes` and `links`."""
    return isinstance(data, dict) and isinstance(data.get("nodes"), list) and "links" in data


def convert(data: Dict[str, Any], info: oi.ObjectInfo, where: str = "workflow") -> Prompt:
    """The API prompt the frontend would queue for `data`, using `info` (the servers' merged /object_info).

    Nodes keep the frontend's execution ids (`5`, or `12:5` inside subgraph instance 12); the
    prompt still carries its private marks (`marks.strip` removes them before sending).
    """
    if not info:
        raise WorkflowError(f"{where} is a ComfyUI UI workflow (saved with Save); converting it needs a server "
                            f"answering /object_info and none did; start a server, or {EXPORT_HINT}")
    workflow = ui_graph.parse(data, where)
    graph = ExecutionGraph(workflow, where)
    prompt = emit.build(graph, Widgets(graph, info), info)
    if not prompt:
        raise WorkflowError(f"{where} has no node to run (all muted, bypassed or notes)")
    prompt_checks.check(prompt, info, where)
    return prompt
