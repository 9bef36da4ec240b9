"""`nuke-comfyui render`: render a ComfyUI workflow over the cluster from the command line.

Builds the same plain RenderRequest the Nuke node builds, submits it to a Farm, shows a live
progress bar (plain lines when not on a terminal), and prints a summary or `--json`. Exit code:
0 all completed, 2 partial, 1 failed.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, Optional

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
    parser.add_argument("workflow", help="ComfyUI workflow in API format (JSON)")
    parser.add_argument("--output", "-o", required=True, help="folder the results are written into")
    parser.add_argument("--input", dest="input_pattern", default=None,
                        help="input frames, Nuke style: /plates/a.####.png or /plates/a.%%04d.png")
    parser.add_argument("--frames", default=None, help="frame set, e.g. 1001-1100, 1-100x2, 1,5,10-20")
    parser.add_argument("--variations", type=int, default=1, help="number of seed variations (default 1)")
    parser.add_argument("--seed-strategy", choices=SEED_STRATEGIES, default="random",
                        help="how variation seeds are derived from the base seed (default random)")
    parser.add_argument("--base-seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument("--strategy", choices=SERVER_STRATEGIES, default=None,
                        help="server choice (default: the configured one, normally fastest)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds a job may run (default 300)")
    parser.add_argument("--label", default="", help="name of the result folder and files")
    parser.add_argument("--chunk-size", type=int, default=1, help="frames per job (default 1)")
    add_farm_arguments(parser)
    from nuke_comfyui.cli import farm_task

    farm_task.add_arguments(parser)


def build_request(args: argparse.Namespace) -> Any:
    from nuke_comfyui.core.render_request import RenderRequest

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
    )


def open_farm(args: argparse.Namespace, job_timeout: Optional[float] = None, loaded: Any = None) -> Any:
    """Load the server settings (unless given) and start a farm on them."""
    from nuke_comfyui.core.config_loader import load_config
    from nuke_comfyui.core.farm import Farm

    loaded = loaded if loaded is not None else load_config(getattr(args, "config", None))
    farm = Farm.from_config(loaded, journal_path=getattr(args, "journal", None), job_timeout=job_timeout)
    return farm.start()


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
        group_id = farm.scheduler.submit(request)
        return follow(farm.scheduler, group_id, as_json=args.json)
    finally:
        farm.stop()
