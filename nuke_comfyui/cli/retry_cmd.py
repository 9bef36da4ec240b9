"""`nuke-comfyui retry GROUP`: re-run the failed, timed-out and cancelled children, with their seeds.

Completed children are left alone. Each re-run child gets a fresh attempt budget, and the
render options that make sense again (`--timeout`, `--strategy`) can be changed; the group is
then followed to the end like `render`.
"""

from __future__ import annotations

import argparse
import sys

HELP = "re-run the failed and cancelled children of a job group (same seeds)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nuke_comfyui.cli.render_cmd import SERVER_STRATEGIES, add_group_arguments
    from nuke_comfyui.cli.resume_cmd import add_takeover_argument

    add_group_arguments(parser)
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds a job may run (default: what the group was rendered with)")
    parser.add_argument("--strategy", choices=SERVER_STRATEGIES, default=None,
                        help="server choice (default: what the group was rendered with)")
    add_takeover_argument(parser)


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.cli.farm_session import farm_session, stop_if_interrupted
    from nuke_comfyui.cli.follow import follow

    if args.timeout is not None and args.timeout <= 0:
        print(f"nuke-comfyui retry: --timeout must be more than 0 seconds (got {args.timeout:g})",
              file=sys.stderr)
        return 1
    from nuke_comfyui.cli.resume_cmd import refuse_if_owned

    refuse_if_owned(args)
    with farm_session(args) as farm:
        stop_if_interrupted()
        group_id = farm.scheduler.resume(args.group, force=args.force)
        count = farm.scheduler.retry_failed(group_id, timeout=args.timeout, strategy=args.strategy)
        if not args.json:
            print(f"re-running {count} failed or cancelled job(s) of group {group_id[:8]}", file=sys.stderr)
        return follow(farm.scheduler, group_id, as_json=args.json, pool=farm.pool)
