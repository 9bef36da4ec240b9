"""`nuke-comfyui cancel GROUP`: stop a job group everywhere.

Deletes its pending prompts from every server queue and interrupts its running ones by
prompt_id (never a bare /interrupt, which could stop another artist's job); the journal marks
the unfinished children cancelled.
"""

from __future__ import annotations

import argparse

HELP = "cancel a job group: remove its prompts from every server"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nuke_comfyui.cli.render_cmd import add_group_arguments

    add_group_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import json

    from nuke_comfyui.cli.render_cmd import open_farm

    farm = open_farm(args)
    try:
        group_id = farm.journal.group(args.group).id
        farm.scheduler.cancel(group_id)
        if args.json:
            print(json.dumps({"group_id": group_id, "state": "cancelled"}))
        else:
            print(f"cancelled group {group_id[:8]}")
        return 0
    finally:
        farm.stop()
