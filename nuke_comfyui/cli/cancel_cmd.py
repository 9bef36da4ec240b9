"""`nuke-comfyui cancel GROUP`: stop a job group everywhere, and say what that did.

Deletes its queued prompts from every server and interrupts its running ones by prompt_id
(never a bare /interrupt, which could stop another artist's job). A group another live process
renders is cancelled through the journal: its owner stops dispatching within seconds, and this
command waits for it to confirm. Exit 0 when everything was stopped (or had finished), 1 when a
server could not be told or the owner did not confirm.
"""

from __future__ import annotations

import argparse

HELP = "cancel a job group: remove its prompts from every server"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nuke_comfyui.cli.render_cmd import add_group_arguments

    add_group_arguments(parser)
    parser.add_argument("--wait", type=float, default=15.0,
                        help="seconds to wait for servers and the rendering process to confirm (default 15)")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from nuke_comfyui.cli.render_setup import open_farm

    farm = open_farm(args)
    try:
        group_id = farm.journal.group(args.group).id
        report = farm.scheduler.cancel(group_id, wait=args.wait)
        if args.json:
            print(json.dumps(report.to_json()))
        else:
            for line in report.lines():
                print(line, file=sys.stdout if report.ok else sys.stderr)
        return 0 if report.ok else 1
    finally:
        farm.stop()
