"""`nuke-comfyui render`: render a ComfyUI workflow over the cluster from the command line.

Builds the same plain RenderRequest the Nuke node builds, submits it to a Farm, shows a live
progress bar (plain lines when not on a terminal), and prints a summary or `--json`. Exit code:
0 all completed, 2 some (partial, or cancelled after some frames), 1 none or a setup error, 130
interrupted (cli/summary.py, cli/interrupts.py).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

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
                        help="set a workflow input (node id, title, or 'Subgraph > Node' titles; repeatable), "
                             "e.g. --set KSampler.denoise=0.4 or --set 12:5.steps=30")
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
    parser.add_argument("--chunk-size", type=int, default=1,
                        help="frames per job, sent as one batch to the workflow's input (default 1; docs/TEMPORAL.md)")
    parser.add_argument("--overlap", type=int, default=0,
                        help="frames neighbouring chunks share, blended at the seam (default 0)")
    parser.add_argument("--seam", choices=("crossfade", "cut"), default="crossfade",
                        help="shared frames: a linear crossfade of both chunks (default), or the later chunk's")
    parser.add_argument("--chunk-seeds", choices=("same", "per-chunk"), default="same",
                        help="every chunk of a variation gets its seed (default), or one seed per chunk")
    parser.add_argument("--split-on-oom", action="store_true",
                        help="a chunk out of GPU memory on the biggest server is retried as smaller batches")
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


def run(args: argparse.Namespace) -> int:
    """Settings, then the request (see core/preflight.py), and only then the farm: a request that
    cannot run fails at once, before anything is sent or written."""
    from nuke_comfyui.cli import farm_task
    from nuke_comfyui.cli.farm_session import farm_session, submit_and_follow
    from nuke_comfyui.cli.render_setup import build_request, prepare_inputs
    from nuke_comfyui.core.chunk_values import held_in_request
    from nuke_comfyui.core.config_loader import load_config
    from nuke_comfyui.core.preflight import check_request

    if farm_task.wanted(args):
        return farm_task.run(args)
    loaded = load_config(getattr(args, "config", None))
    request = build_request(args)
    check_request(request, loaded.cluster.servers)
    for note in held_in_request(request):
        print(f"chunks: {note}", file=sys.stderr)
    with farm_session(args, loaded, request.servers) as farm:  # fails in seconds when no server answers
        from nuke_comfyui.cli import pixels_arg

        prepare_inputs(request, args, farm)
        pixels_arg.print_notes(pixels_arg.fit_pixels(request, args.output_format, farm, args.plate_encoding))
        return submit_and_follow(farm, request, as_json=args.json)
