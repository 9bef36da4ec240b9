"""`nuke -t` entry: render named Comfy nodes of a script, print progress, exit 0 / 2 / 1.

    nuke -t /path/to/nuke_comfyui/host/headless.py shot.nk --nodes ComfyRender1,ComfyRender2 \
        --frames 1001-1100

Frames are a named option because `nuke -t` swallows a trailing frame range. Same code path as
the Render button (host.render) and the same journal, but no main-thread handoff: this thread
*is* the main thread, so it polls the scheduler and updates the Read nodes itself, then saves
the script (unless --no-save) so the Read nodes and job state are kept.
Exit codes: 0 every frame rendered, 2 partial (some frames failed or were cancelled), 1 nothing
rendered or a setup error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Dict, List, Optional

if __package__ in (None, ""):  # run by path (`nuke -t .../headless.py`): make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import nuke

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.host import render
from nuke_comfyui.host.report import failures, is_finished, status_line
from nuke_comfyui.host.session import get_session, shutdown_session

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nuke -t headless.py", description="Render Comfy nodes of a Nuke script."
    )
    parser.add_argument("script", help="the .nk script")
    parser.add_argument("--nodes", default="", help="comma-separated Comfy node names (default: all)")
    parser.add_argument("--frames", default=None, help="frame set overriding the node's range")
    parser.add_argument("--attach", action="store_true",
                        help="resume the node's unfinished journaled render instead of a new one")
    parser.add_argument("--no-save", action="store_true", help="do not save the script at the end")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between progress checks")
    parser.add_argument("--farm", choices=("thin", "gpu"), default=None,
                        help="write an OpenJD job bundle per node (docs/FARM.md) instead of rendering here")
    parser.add_argument("--submit", action="store_true", help="with --farm: run `deadline bundle submit` on each")
    return parser


def exit_code(states: List[str]) -> int:
    """0 when every group completed, 1 when none produced anything, else 2."""
    if states and all(s == "completed" for s in states):
        return EXIT_OK
    if all(s in ("failed", "cancelled") for s in states):
        return EXIT_FAILED
    return EXIT_PARTIAL


def _start(names: List[str], args: argparse.Namespace) -> Dict[str, str]:
    groups = {}
    for name in names:
        attached = render.attach_node(name, watch=False) if args.attach else None
        groups[name] = attached or render.render_node(name, frames=args.frames, watch=False)
        print(f"[nuke-comfyui] {name}: group {groups[name]}", flush=True)
    return groups


def _follow(groups: Dict[str, str], poll: float) -> List[str]:
    """Poll until every group has finished, printing a line whenever a node's progress changes."""
    scheduler = get_session().farm.scheduler
    last: Dict[str, str] = {}
    finished: Dict[str, str] = {}
    while len(finished) < len(groups):
        for name, group_id in groups.items():
            if name in finished:
                continue
            snapshot = scheduler.snapshot(group_id)
            render.apply_snapshot(name, snapshot)
            line = status_line(snapshot)
            if line != last.get(name):
                print(f"[nuke-comfyui] {name}: {line}", flush=True)
                last[name] = line
            if is_finished(snapshot):
                finished[name] = str(getattr(snapshot.state, "value", snapshot.state))
                for _, text in failures(snapshot):
                    print(f"[nuke-comfyui] {name}: failed {text}", flush=True)
        if len(finished) < len(groups):
            time.sleep(poll)
    return [finished[name] for name in groups]


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        nuke.scriptOpen(args.script)
        names = [n.strip() for n in args.nodes.split(",") if n.strip()] or render.comfy_node_names()
        if not names:
            print(f"[nuke-comfyui] no ComfyRender nodes in {args.script}", file=sys.stderr)
            return EXIT_FAILED
        if args.farm:
            from nuke_comfyui.host.farm_submit import headless_bundles

            return headless_bundles(names, frames=args.frames, layout=args.farm, submit=args.submit)
        states = _follow(_start(names, args), args.poll)
        if not args.no_save:
            nuke.scriptSave(args.script)
    except NukeComfyError as exc:
        print(f"[nuke-comfyui] {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        shutdown_session()
    code = exit_code(states)
    print(f"[nuke-comfyui] done: {', '.join(states)} (exit {code})", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
