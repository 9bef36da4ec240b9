"""The studio workflows folder: the pick list beside the node's file browser, validated on pick.

The folder is `NUKE_COMFYUI_WORKFLOWS` (env.py). Every `*.json` in it (not sidecars, not in
subfolders) is offered by name, sorted; picking one checks it at once against the servers'
`/object_info` (it loads, converts when it is a saved UI file, has an output node, and its combo
values exist on every enabled server), so problems show on the node before Render.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.workflow_inputs import list_inputs, missing_combo_values
from nuke_comfyui.core.workflow_sidecar import SUFFIX

ENV_VAR = "NUKE_COMFYUI_WORKFLOWS"


def studio_folder(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The studio workflows folder, or None when it is not set."""
    env = os.environ if environ is None else environ
    return env.get(ENV_VAR, "").strip() or None


def list_workflows(folder: Optional[str]) -> List[str]:
    """Workflow files of the folder, sorted by name (sidecars left out); [] when it is unset or missing."""
    if not folder or not Path(folder).is_dir():
        return []
    return sorted(str(p) for p in Path(folder).glob("*.json") if not p.name.endswith(SUFFIX) and p.is_file())


def check_workflow(path: str, per_server: Dict[str, oi.ObjectInfo]) -> List[str]:
    """Problems of a picked workflow, as lines for the node ([] when it can render)."""
    merged = oi.merge(per_server)
    try:
        workflow = wf.load_workflow(path, merged or None)
        wf.find_output_nodes(workflow)
    except WorkflowError as exc:
        return [str(exc)]
    problems: List[str] = []
    for server, info in sorted(per_server.items()):
        missing = sorted(wf.class_types(workflow) - set(info))
        if missing:
            problems.append(f"server {server} lacks node classes {', '.join(missing)}")
    problems += missing_combo_values(list_inputs(workflow, merged), {}, per_server)
    return problems


def describe(problems: List[Any]) -> str:
    return "ok" if not problems else "; ".join(str(p) for p in problems)
