"""The studio workflows folder: the pick list beside the node's file browser, validated on pick.

The folder is the settings file's `workflows_folder` (the Settings panel's "Workflows folder"),
overridden by `NUKE_COMFYUI_WORKFLOWS` like every other cluster setting (env.py: defaults <
file < environment). Every `*.json` in it (not sidecars, not in subfolders) is offered by name,
sorted. Choosing a workflow (from the list, the file browser or Reload) checks it at once
against the enabled servers' cached `/object_info`: it loads, converts when it is a saved UI
file, has an output node, every server has its node classes, and every COMBO value the node
would send (the knob's value, not only the file's) exists on every server, so problems show on
the node before Render.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from nuke_comfyui.core import env as contract
from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.combo_check import missing_combo_values, nodes_the_server_runs
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.workflow_inputs import list_inputs
from nuke_comfyui.core.workflow_sidecar import SUFFIX

ENV_VAR = contract.WORKFLOWS
log = logging.getLogger(__name__)


def studio_folder(environ: Optional[Mapping[str, str]] = None, cluster: Any = None) -> Optional[str]:
    """The effective studio workflows folder, or None when neither the variable nor the settings set one.

    `cluster` is a loaded ClusterConfig (its `workflows_folder` already has the variable applied).
    Without one: the variable, else the settings file's `workflows_folder`, read now (a small
    file, so a folder saved in the Settings panel shows on the next pick without a restart), the
    same precedence as the loader's; an unreadable file gives no folder (the loader reports it).
    """
    if cluster is not None:
        return getattr(cluster, "workflows_folder", None) or None
    env = os.environ if environ is None else environ
    variable = env.get(ENV_VAR, "").strip()
    if variable:
        return variable
    path = Path(contract.settings_path(env)).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError) as exc:
        log.debug("studio workflows folder: %s not readable (%s)", path, exc)
        return None
    value = data.get("workflows_folder") if isinstance(data, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def list_workflows(folder: Optional[str]) -> List[str]:
    """Workflow files of the folder, sorted by name (sidecars left out); [] when it is unset or missing."""
    if not folder or not Path(folder).is_dir():
        return []
    return sorted(str(p) for p in Path(folder).glob("*.json") if not p.name.endswith(SUFFIX) and p.is_file())


def check_workflow(path: str, per_server: Dict[str, oi.ObjectInfo],
                   values: Optional[Dict[str, Any]] = None) -> List[str]:
    """Problems of a chosen workflow, as lines for the node ([] when it can render).

    `values` are the node's input values by key ({"4.ckpt_name": ...}); inputs without one are
    checked with the file's value. Each COMBO problem names the input, the value and the server.
    """
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
    problems += missing_combo_values(list_inputs(workflow, merged), values or {}, per_server,
                                     nodes_the_server_runs(workflow, merged))
    return problems


def describe(problems: List[Any]) -> str:
    return "ok" if not problems else "; ".join(str(p) for p in problems)
