"""`nuke-comfyui resume GROUP`: re-attach to a journaled group after a crash or a restart.

Finished prompts are collected from their servers (not rendered again), running ones are
waited for, lost ones are re-queued; then the group is followed to the end like `render`.
"""

from __future__ import annotations

import argparse

HELP = "re-attach to a journaled job group and finish it (nothing rendered twice)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nuke_comfyui.cli.render_cmd import add_group_arguments

    add_group_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.cli.progress import follow
    from nuke_comfyui.cli.render_cmd import open_farm

    farm = open_farm(args)
    try:
        group_id = farm.scheduler.resume(args.group)
        return follow(farm.scheduler, group_id, as_json=args.json)
    finally:
        farm.stop()
