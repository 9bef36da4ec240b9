"""`nuke-comfyui resume GROUP`: re-attach to a journaled group after a crash or a restart.

Finished prompts are collected from their servers (not rendered again), running ones are
waited for, lost ones are re-queued, cancelled children are queued again (so a cancelled group
can be finished); then the group is followed to the end like `render`. A group another live
process renders is refused; `--force` takes it over (only once that process has died).
"""

from __future__ import annotations

import argparse

HELP = "re-attach to a journaled job group and finish it (nothing rendered twice)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nuke_comfyui.cli.render_cmd import add_group_arguments

    add_group_arguments(parser)
    add_takeover_argument(parser)


def add_takeover_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="take the group over even if another process still seems to render it")


def refuse_if_owned(args: argparse.Namespace) -> None:
    """Raise GroupOwnedError before any server is contacted when another live process renders it."""
    from nuke_comfyui.core.group_owners import GroupOwnedError, GroupOwners
    from nuke_comfyui.core.journal import Journal

    if args.force:
        return
    with Journal(args.journal) as journal:
        group_id = journal.group(args.group).id
        owner = GroupOwners(journal).get(group_id)
    if owner is not None and not owner.is_me and owner.alive():
        raise GroupOwnedError(f"group {group_id[:8]} is being rendered by {owner.describe()}; follow it "
                              "there, or use --force to take it over once that process has died")


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.cli.farm_session import farm_session, stop_if_interrupted
    from nuke_comfyui.cli.follow import follow

    refuse_if_owned(args)
    with farm_session(args) as farm:
        stop_if_interrupted()
        group_id = farm.scheduler.resume(args.group, force=args.force, restart_cancelled=True)
        return follow(farm.scheduler, group_id, as_json=args.json, pool=farm.pool)
