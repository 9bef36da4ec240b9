"""`nuke-comfyui retry GROUP`: re-run only the failed and timed-out children, with their seeds.

Completed children are left alone; the group is then followed to the end like `render`.
"""

from __future__ import annotations

import argparse
import sys

HELP = "re-run the failed children of a job group (same seeds)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nuke_comfyui.cli.render_cmd import add_group_arguments

    add_group_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.cli.progress import follow
    from nuke_comfyui.cli.render_cmd import open_farm

    farm = open_farm(args)
    try:
        group_id = farm.scheduler.resume(args.group)
        count = farm.scheduler.retry_failed(group_id)
        if not args.json:
            print(f"re-running {count} failed job(s) of group {group_id[:8]}", file=sys.stderr)
        return follow(farm.scheduler, group_id, as_json=args.json)
    finally:
        farm.stop()
