"""Turning `render` arguments into a RenderRequest and a started farm: what `render` and a farm task share.

`render` (cli/render_cmd.py) dispatches to a farm task (cli/farm_task.py) when it is given a
group id; both build the same request from the same arguments and open the farm the same way,
so that code lives here, below both, and neither imports the other.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, List, Optional


def server_names(text: Optional[str]) -> Optional[List[str]]:
    """`--servers gpu01,gpu02` as names (None: every enabled server)."""
    from nuke_comfyui.core.render_request import RequestError

    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise RequestError(f"--servers {text!r} names no server; give names separated by commas, e.g. gpu01,gpu02")
    return names


def build_request(args: argparse.Namespace) -> Any:
    from nuke_comfyui.core.input_values_file import read_values_file
    from nuke_comfyui.core.render_request import RenderRequest, RequestError

    for option, text in (("the workflow", args.workflow), ("--output", args.output)):
        if not str(text).strip():  # abspath("") is the current folder: never write there by accident
            raise RequestError(f"{option} is empty; give a path")
    values, frame_values = (read_values_file(args.values_file) if getattr(args, "values_file", None)
                            else (None, None))
    return RenderRequest(
        workflow_path=os.path.abspath(args.workflow),
        output_dir=os.path.abspath(args.output),
        input_pattern=os.path.abspath(args.input_pattern) if args.input_pattern else None,
        frames=args.frames,
        variations=args.variations,
        seed_strategy=args.seed_strategy,
        base_seed=args.base_seed,
        strategy=args.strategy,
        timeout=args.timeout,
        chunk_size=args.chunk_size,
        overlap=getattr(args, "overlap", 0),
        seam=getattr(args, "seam", "crossfade"),
        chunk_seeds=getattr(args, "chunk_seeds", "same"),
        split_on_oom=bool(getattr(args, "split_on_oom", False)),
        label=args.label,
        values=values,
        frame_values=frame_values,
        servers=server_names(getattr(args, "servers", None)),
    )


def _is_ui(path: str) -> bool:
    from nuke_comfyui.core.errors import WorkflowError
    from nuke_comfyui.core.ui_workflow import is_ui_workflow
    from nuke_comfyui.core.workflow import read_workflow_data

    try:
        return is_ui_workflow(read_workflow_data(path))  # a regular file, read with the workflow cap
    except WorkflowError:
        return False


def _wait_for_object_info(farm: Any, wait: float = 10.0) -> None:
    """The pool reads /object_info on its first probes; give them a bounded moment."""
    import time

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not farm.pool.object_infos():
        time.sleep(0.05)


def open_farm(args: argparse.Namespace, job_timeout: Optional[float] = None, loaded: Any = None) -> Any:
    """Load the server settings (unless given) and start a farm on them.

    A command line never shows a live preview (`render`, `demo`, `resume`, `retry`, a farm task):
    its prompts ask every server for none (core/comfy/preview_method.py)."""
    from nuke_comfyui.blend import PixelBlender
    from nuke_comfyui.core.config_loader import load_config
    from nuke_comfyui.core.farm import Farm

    loaded = loaded if loaded is not None else load_config(getattr(args, "config", None))
    farm = Farm.from_config(loaded, journal_path=getattr(args, "journal", None), job_timeout=job_timeout,
                            blender=PixelBlender(), previews=False)
    return farm.start()


def apply_inputs(request: Any, args: argparse.Namespace, farm: Any) -> None:
    """`--set` and `--image`, typed against the servers' /object_info (the workflow's values without one)."""
    from nuke_comfyui.core import workflow as wf
    from nuke_comfyui.core.image_inputs import image_inputs
    from nuke_comfyui.core.input_refs import unsettable_reason
    from nuke_comfyui.core.workflow_inputs import InputValueError, parse_assignments_for

    if not args.assignments and not args.images:
        return
    info = farm.pool.object_info() if farm is not None else {}
    workflow = wf.load_workflow(request.workflow_path, info or None)
    for text in args.assignments:  # a link or a loader's image exists but is not a value to set
        problem = unsettable_reason(workflow, text)
        if problem:
            raise InputValueError(problem)
    assigned = parse_assignments_for(workflow, info, args.assignments)
    request.values = {**(request.values or {}), **assigned} or None  # --set wins over --values
    images = {}
    for text in args.images:
        ref, eq, path = text.partition("=")
        match = [i.node for i in image_inputs(workflow) if ref.strip() in (i.node, i.title)]
        if not eq or len(match) != 1:
            raise InputValueError(f"--image {text!r} must be NODE=FILE with NODE one image-loading node's id "
                                  "or title; `nuke-comfyui inputs WORKFLOW` lists them")
        images[match[0]] = os.path.abspath(path)
    request.images = images or None


def prepare_inputs(request: Any, args: argparse.Namespace, farm: Any) -> None:
    """--set / --image on a started farm (waiting, bounded, for /object_info when they or a saved
    UI-format workflow need it). Shared by `render` and a farm bundle's tasks."""
    if (args.assignments or args.images) or _is_ui(request.workflow_path):
        _wait_for_object_info(farm)
    apply_inputs(request, args, farm)
