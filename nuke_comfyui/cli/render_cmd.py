"""`nuke-comfyui render`: render a ComfyUI workflow over the cluster from the command line.

Builds the same plain RenderRequest the Nuke node builds, submits it to a Farm, shows a live
progress bar (plain lines when not on a terminal), and prints a summary or `--json`. Exit code:
0 all completed, 2 partial, 1 failed.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, List, Optional

HELP = "render a ComfyUI workflow over the cluster (frames and/or seed variations)"

SEED_STRATEGIES = ("random", "sequential", "fibonacci", "golden")
SERVER_STRATEGIES = ("fastest", "least-loaded", "round-robin", "priority")


def add_farm_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every command that talks to the farm shares."""
    parser.add_argument("--config", default=None, help="server settings file (default: the per-user one)")
    parser.add_argument("--journal", default=None, help=argparse.SUPPRESS)  # tests: a private journal file
    parser.add_argument("--json", action="store_true", help="print a JSON summary instead of text")


def add_group_arguments(parser: argparse.ArgumentParser) -> None:
    """`GROUP` plus the farm options: what resume, retry and cancel take."""
    parser.add_argument("group", help="group id (or its first characters; see `nuke-comfyui groups`)")
    add_farm_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow", help="ComfyUI workflow (API format or the normal saved format)")
    parser.add_argument("--output", "-o", required=True, help="folder the results are written into")
    parser.add_argument("--input", dest="input_pattern", default=None,
                        help="input frames, Nuke style: /plates/a.####.png or /plates/a.%%04d.png")
    parser.add_argument("--frames", default=None, help="frame set, e.g. 1001-1100, 1-100x2, 1,5,10-20")
    parser.add_argument("--variations", type=int, default=1, help="number of seed variations (default 1)")
    parser.add_argument("--seed-strategy", choices=SEED_STRATEGIES, default="random",
                        help="how variation seeds are derived from the base seed (default random)")
    parser.add_argument("--base-seed", type=_base_seed, default=None,
                        help="base seed (default, or -1: one variation keeps the workflow's seed, several start at 0)")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="NODE.INPUT=VALUE",
                        help="set a workflow input (node id or title; repeatable), e.g. --set KSampler.denoise=0.4")
    parser.add_argument("--image", dest="images", action="append", default=[], metavar="NODE=FILE",
                        help="feed another image-loading node (id or title) a file or sequence pattern")
    parser.add_argument("--values", dest="values_file", default=None, metavar="FILE",
                        help="workflow input values from a JSON file (what a Nuke node's farm bundle carries); "
                             "--set wins over it")
    parser.add_argument("--servers", default=None, metavar="NAME,...",
                        help="render only on these servers (comma-separated names; default: every enabled one)")
    parser.add_argument("--strategy", choices=SERVER_STRATEGIES, default=None,
                        help="server choice (default: the configured one, normally fastest)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds a job may run (default 300)")
    parser.add_argument("--label", default="", help="name of the result folder and files")
    parser.add_argument("--chunk-size", type=int, default=1, help="frames per job (default 1)")
    from nuke_comfyui.cli import pixels_arg

    pixels_arg.add_argument(parser)
    add_farm_arguments(parser)
    from nuke_comfyui.cli import farm_task

    farm_task.add_arguments(parser)


def _base_seed(text: str) -> Optional[int]:
    """An int seed; -1 means none (what a farm bundle's BaseSeed parameter holds for "no base seed")."""
    value = int(text)
    if value < -1:
        raise argparse.ArgumentTypeError(f"{value} is not a seed; give 0 or more (or -1 for none)")
    return None if value == -1 else value


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
    from nuke_comfyui.core.render_request import RenderRequest

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
        label=args.label,
        values=values,
        frame_values=frame_values,
        servers=server_names(getattr(args, "servers", None)),
    )


def _is_ui(path: str) -> bool:
    import json

    from nuke_comfyui.core.ui_workflow import is_ui_workflow

    try:
        with open(path, encoding="utf-8") as fh:
            return is_ui_workflow(json.load(fh))
    except (OSError, ValueError):
        return False


def _wait_for_object_info(farm: Any, wait: float = 10.0) -> None:
    """The pool reads /object_info on its first probes; give them a bounded moment."""
    import time

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not farm.pool.object_infos():
        time.sleep(0.05)


def open_farm(args: argparse.Namespace, job_timeout: Optional[float] = None, loaded: Any = None) -> Any:
    """Load the server settings (unless given) and start a farm on them."""
    from nuke_comfyui.core.config_loader import load_config
    from nuke_comfyui.core.farm import Farm

    loaded = loaded if loaded is not None else load_config(getattr(args, "config", None))
    farm = Farm.from_config(loaded, journal_path=getattr(args, "journal", None), job_timeout=job_timeout)
    return farm.start()


def apply_inputs(request: Any, args: argparse.Namespace, farm: Any) -> None:
    """`--set` and `--image`, typed against the servers' /object_info (the workflow's values without one)."""
    from nuke_comfyui.core import workflow as wf
    from nuke_comfyui.core.image_inputs import image_inputs
    from nuke_comfyui.core.workflow_inputs import InputValueError, list_inputs, parse_assignments

    if not args.assignments and not args.images:
        return
    info = farm.pool.object_info() if farm is not None else {}
    workflow = wf.load_workflow(request.workflow_path, info or None)
    assigned = parse_assignments(list_inputs(workflow, info), args.assignments)
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


def run(args: argparse.Namespace) -> int:
    """Settings, then the request (see core/preflight.py), and only then the farm: a request that
    cannot run fails at once, before anything is sent or written."""
    from nuke_comfyui.cli import farm_task
    from nuke_comfyui.cli.progress import follow
    from nuke_comfyui.core.config_loader import load_config
    from nuke_comfyui.core.preflight import check_request

    if farm_task.wanted(args):
        return farm_task.run(args)
    loaded = load_config(getattr(args, "config", None))
    request = build_request(args)
    check_request(request, loaded.cluster.servers)
    farm = open_farm(args, loaded=loaded)
    try:
        from nuke_comfyui.cli import pixels_arg

        prepare_inputs(request, args, farm)
        pixels_arg.print_notes(pixels_arg.fit_pixels(request, args.output_format, farm))
        group_id = farm.scheduler.submit(request)
        return follow(farm.scheduler, group_id, as_json=args.json)
    finally:
        farm.stop()
