"""`nuke-comfyui inputs WORKFLOW`: a workflow's inputs, as the Nuke node's knobs and `render --set` see them.

Either workflow format is accepted (ComfyUI's normal Save is converted with the servers'
`/object_info`). Types and combo options come from the first configured server that answers;
with none, from the JSON values, and the listing says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict, List, Tuple

HELP = "list a workflow's inputs (node id, title, input, type, value, options)"
EPILOG = ("Keys are NODE.INPUT: NODE is the node id (12:5 for node 5 inside subgraph instance 12), its title or "
          "class, or subgraph and node titles joined by '>' (\"Upscale > KSampler.steps\"); inputs of a dynamic "
          "combo are dotted (5.format.bit_depth). render --set and --values take the same keys.")
OBJECT_INFO_WAIT_S = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("workflow", help="ComfyUI workflow (API format or the normal saved format)")
    parser.add_argument("--config", default=None, help="server settings file (default: the per-user one)")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {node, title, input, type, value, options}")


def server_object_infos(config: Any, wait: float = OBJECT_INFO_WAIT_S) -> Tuple[Dict[str, Any], List[str]]:
    """{server: /object_info} of the enabled servers that answer within `wait`, and notes on the others."""
    from nuke_comfyui.core.comfy.client import ComfyClient
    from nuke_comfyui.core.errors import NukeComfyError

    infos: Dict[str, Any] = {}
    notes: List[str] = []
    for server in config.servers:
        if not server.enabled:
            continue
        try:
            with ComfyClient(server, connect_timeout=min(3.0, wait), read_timeout=wait, retries=0) as client:
                infos[server.name] = client.object_info()
        except NukeComfyError as exc:
            notes.append(f"{server.name}: no /object_info ({exc})")
    return infos, notes


def load_inputs(workflow_path: str, config_path: Any) -> Tuple[Any, List[Any], Dict[str, Any], List[str]]:
    """(API workflow, inputs, per-server object_info, notes) for a workflow file."""
    from nuke_comfyui.core import object_info as oi
    from nuke_comfyui.core import workflow as wf
    from nuke_comfyui.core.config_loader import load_config
    from nuke_comfyui.core.workflow_inputs import list_inputs

    loaded = load_config(config_path)
    per_server, notes = server_object_infos(getattr(loaded, "cluster", loaded))
    merged = oi.merge(per_server)
    workflow = wf.load_workflow(workflow_path, merged or None)
    if not merged:
        notes.append("no server answered /object_info: types are guessed from the workflow's values")
    return workflow, list_inputs(workflow, merged), per_server, notes


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.core import object_info as oi
    from nuke_comfyui.core.combo_check import missing_combo_values, nodes_the_server_runs
    from nuke_comfyui.core.image_inputs import image_inputs

    workflow, inputs, per_server, notes = load_inputs(args.workflow, args.config)
    runs = nodes_the_server_runs(workflow, oi.merge(per_server))
    notes += [f"warning: {p}" for p in missing_combo_values(inputs, {}, per_server, runs)]
    if args.json:
        rows = [i.as_dict() for i in inputs]
        rows += [{"node": i.node, "title": i.title, "input": "image", "type": "MASK" if i.is_mask else "IMAGE",
                  "value": i.value, "options": []} for i in image_inputs(workflow)]
        print(json.dumps(rows, indent=2))
    else:
        for item in inputs:
            extra = " (seed: set with --base-seed)" if item.is_seed else ""
            extra += " (choosing another key changes the inputs under it)" if item.dynamic else ""
            options = f"  [{len(item.options)} choices]" if item.options else ""
            where = " > ".join([*item.path, item.title])  # subgraph titles, then the node's
            print(f"{item.key:<24} {item.kind:<8} {item.value!r}{options}   {where}{extra}")
        for image in image_inputs(workflow):
            kind = "MASK" if image.is_mask else "IMAGE"
            print(f"{image.node}.image{'':<13} {kind:<8} {image.value!r}   {image.title} (--image {image.node}=FILE)")
    from nuke_comfyui.cli.image_lines import image_lines
    from nuke_comfyui.core.config_loader import load_config

    for line in image_lines(load_config(args.config).cluster, per_server):
        print(f"images on {line}", file=sys.stderr if args.json else sys.stdout)
    for note in notes:
        print(note, file=sys.stderr)
    return 0
