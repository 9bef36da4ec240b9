"""`nuke -t` entry: render named Comfy nodes of a script, print progress, exit 0 / 2 / 1.

    nuke -t /path/to/nuke_comfyui/host/headless.py shot.nk --nodes ComfyRender1,ComfyRender2 \\
        --frames 1001-1100

Nuke removes a trailing number or frame range from sys.argv (Foundry, "Using the Command-line"),
so `--frames 1001-1100` typed last would lose its value: the arguments are read from
`nuke.rawArgs` (everything after this file's path), which keeps them; `--frames=1001-1100`
works too. Same code path as the Render button (host.render) and the same journal, but no
main-thread handoff: this thread *is* the main thread, so it polls the scheduler and updates
the Read nodes itself.
It never hangs: with no server able to take the work for `--server-wait` seconds it exits 1
naming each server's state, and `--timeout` bounds the whole run (unfinished work is cancelled).
A journal that cannot be written (its disk full) stops a node's render once what runs has ended:
one line naming the journal's folder and `nuke-comfyui resume <group>`, nothing cancelled.
The artist's script is never overwritten unless asked (`--save`): results are saved to a
sibling `<script>.comfyui[_<frames>].nk`, so parallel farm tasks cannot clobber each other.
Exit codes: 0 every frame rendered, 2 partial (some frames failed, were cancelled or timed
out), 1 nothing rendered or a setup error.
Every failure is one readable line on stderr and exit 1, never a traceback: bad arguments, a
script Nuke cannot open (`scriptOpen` raises RuntimeError), the plugin's gizmos/ folder not on
the plugin path (added here with `nuke.pluginAddPath` when init.py did not run), a disk error,
a Write that fails to render an input; anything unexpected too (set NUKE_COMFYUI_DEBUG=1 for its
traceback). `nuke -t` has no GUI event loop, so nothing here waits on `executeInMainThread`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from typing import Dict, List, NoReturn, Optional

if __package__ in (None, ""):  # run by path (`nuke -t .../headless.py`): make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import nuke

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.farm_bundle.choices import FarmChoices, add_scheduling_arguments, scheduling_from
from nuke_comfyui.host import render
from nuke_comfyui.host.report import failures, halt_notice, is_finished, status_line
from nuke_comfyui.host.session import get_session, shutdown_session

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 2


PLUGIN_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GIZMO = "ComfyRender.gizmo"
DEBUG = "NUKE_COMFYUI_DEBUG"


class HeadlessStop(NukeComfyError):
    """The run cannot finish: no usable server, or the time bound was reached."""


class HeadlessUsage(NukeComfyError):
    """The command line is wrong (argparse would exit 2, which here means "partial")."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise HeadlessUsage(f"{message}; usage: {self.format_usage().strip()[len('usage: '):]}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nuke -t headless.py", description="Render Comfy nodes of a Nuke script."
    )
    parser.add_argument("script", help="the .nk script")
    parser.add_argument("--nodes", default="", help="comma-separated Comfy node full names (default: all)")
    parser.add_argument("--frames", default=None, help="frame set overriding the node's range")
    parser.add_argument("--attach", action="store_true",
                        help="resume the node's unfinished journaled render instead of a new one")
    saving = parser.add_mutually_exclusive_group()
    saving.add_argument("--save", action="store_true", help="overwrite the script itself with the results")
    saving.add_argument("--save-as", default=None, metavar="PATH", help="save the results script to PATH")
    saving.add_argument("--no-save", action="store_true", help="do not save any script at the end")
    parser.add_argument("--timeout", type=float, default=0.0,
                        help="seconds the whole run may take (0: no bound); unfinished work is cancelled")
    parser.add_argument("--server-wait", type=float, default=60.0,
                        help="seconds to wait for any usable server before giving up (default 60)")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between progress checks")
    parser.add_argument("--farm", choices=("thin", "gpu"), default=None,
                        help="write an OpenJD job bundle per node (docs/FARM.md) instead of rendering here")
    parser.add_argument("--submit", action="store_true", help="with --farm: run `deadline bundle submit` on each")
    farm = parser.add_argument_group("with --farm: the Submit to farm dialog's values")
    farm.add_argument("--frames-per-task", type=int, default=None, help="frames of one farm task")
    farm.add_argument("--variations-per-task", type=int, default=None, help="seed variations of one farm task")
    farm.add_argument("--bundle-dir", default=None,
                      help="where the bundle goes (several nodes: a subfolder each; default next to the script)")
    add_scheduling_arguments(parser)
    return parser


def farm_choices(args: argparse.Namespace) -> FarmChoices:
    """--farm and its flags as the dialog's FarmChoices."""
    choices = FarmChoices(layout=args.farm, frames_per_task=args.frames_per_task,
                          variations_per_task=args.variations_per_task, scheduling=scheduling_from(args),
                          bundle_dir=os.path.abspath(args.bundle_dir) if args.bundle_dir else None,
                          submit=args.submit)
    choices.validate()
    return choices


def command_line() -> List[str]:
    """Our arguments: those after this file in nuke.rawArgs (which keeps a trailing frame range)."""
    raw = [str(a) for a in (getattr(nuke, "rawArgs", None) or [])]
    here = os.path.basename(__file__)
    for i, arg in enumerate(raw):
        if os.path.basename(arg) == here:
            return raw[i + 1:]
    return sys.argv[1:]


def exit_code(states: List[str]) -> int:
    """0 when every group completed, 1 when none produced anything, else 2."""
    if states and all(s == "completed" for s in states):
        return EXIT_OK
    if all(s in ("failed", "cancelled") for s in states):
        return EXIT_FAILED
    return EXIT_PARTIAL


def results_script(args: argparse.Namespace) -> Optional[str]:
    """Where the script is saved at the end: None, the script itself, --save-as, or a sibling."""
    if args.no_save:
        return None
    if args.save:
        return str(args.script)
    if args.save_as:
        return str(args.save_as)
    stem, ext = os.path.splitext(str(args.script))
    frames = f"_{re.sub(r'[^0-9A-Za-z-]+', '_', args.frames)}" if args.frames else ""
    return f"{stem}.comfyui{frames}{ext or '.nk'}"


def _start(names: List[str], args: argparse.Namespace, groups: Dict[str, str]) -> Dict[str, str]:
    """Submit (or attach) each node; groups fills as they start, so a failure can cancel the started ones."""
    for name in names:
        try:
            attached = render.attach_node(name, watch=False) if args.attach else None
            groups[name] = attached or render.render_node(name, frames=args.frames, watch=False)
        except NukeComfyError:
            raise
        except (RuntimeError, OSError, ValueError) as exc:  # e.g. the input Write failing to render
            raise NukeComfyError(f"{name}: {_one_line(exc)}") from None
        print(f"[nuke-comfyui] {name}: group {groups[name]}", flush=True)
    return groups


def _no_usable_server() -> Optional[str]:
    """A sentence naming every server's state when none can take work, else None."""
    statuses = get_session().farm.pool.statuses()
    if any(s.enabled and s.state.usable for s in statuses):
        return None
    states = ", ".join(f"{s.name}: {s.state.value}{' (' + s.error + ')' if s.error else ''}" for s in statuses)
    return f"no ComfyUI server can take the work ({states or 'none configured'})"


def _follow(groups: Dict[str, str], args: argparse.Namespace) -> List[str]:
    """Poll until every group has finished, printing a line whenever a node's progress changes."""
    scheduler = get_session().farm.scheduler
    started = time.monotonic()
    last_usable = started
    last: Dict[str, str] = {}
    finished: Dict[str, str] = {}
    while len(finished) < len(groups):
        for name, group_id in groups.items():
            if name in finished:
                continue
            snapshot = scheduler.view(group_id)  # O(sequences + failures), not O(jobs), per poll
            render.apply_snapshot(name, snapshot)
            line = status_line(snapshot)
            if line != last.get(name):
                print(f"[nuke-comfyui] {name}: {line}", flush=True)
                last[name] = line
            if is_finished(snapshot):
                finished[name] = str(getattr(snapshot.state, "value", snapshot.state))
                for _, text in failures(snapshot):
                    print(f"[nuke-comfyui] {name}: failed {text}", flush=True)
            elif halt_notice(snapshot) and scheduler.settled(group_id):  # the journal stopped it: no cancel,
                finished[name] = "partial" if snapshot.done else "failed"  # `resume` finishes it later
                print(f"[nuke-comfyui] {name}: {scheduler.halt_message(group_id) or halt_notice(snapshot)}",
                      file=sys.stderr, flush=True)
        if len(finished) == len(groups):
            break
        now = time.monotonic()
        reason = _no_usable_server()
        if reason is None:
            last_usable = now
        elif now - last_usable > args.server_wait:
            raise HeadlessStop(f"{reason}; waited {args.server_wait:g} s (--server-wait)")
        if args.timeout and now - started > args.timeout:
            raise HeadlessStop(f"timed out after {args.timeout:g} s (--timeout)")
        time.sleep(args.poll)
    return [finished[name] for name in groups]


def _stop_unfinished(groups: Dict[str, str]) -> List[str]:
    """Cancel whatever is still running; the groups' states afterwards."""
    scheduler = get_session().farm.scheduler
    states = []
    for name, group_id in groups.items():
        snapshot = scheduler.snapshot(group_id)
        if not is_finished(snapshot):
            scheduler.cancel(group_id)
            snapshot = scheduler.snapshot(group_id)
        render.apply_snapshot(name, snapshot)
        states.append("partial" if snapshot.done else "failed")
    return states


def ensure_gizmo_path() -> Optional[str]:
    """Put the plugin's gizmos/ on Nuke's plugin path when init.py did not (headless.py run by path,
    the plugin not on NUKE_PATH), so the script's ComfyRender nodes load; returns the folder added."""
    if any(os.path.isfile(os.path.join(folder, GIZMO)) for folder in nuke.pluginPath()):
        return None
    folder = os.path.join(PLUGIN_ROOT, "gizmos")
    if not os.path.isfile(os.path.join(folder, GIZMO)):
        raise NukeComfyError(f"{GIZMO} is neither on Nuke's plugin path nor in {folder}; add the plugin folder "
                             "to NUKE_PATH (docs/NUKE.md, section 2)")
    nuke.pluginAddPath(folder, addToSysPath=False)
    return folder


def open_script(path: str) -> None:
    """nuke.scriptOpen, its RuntimeError (missing file, unknown node class, ...) as one line with the fix."""
    if not os.path.isfile(path):
        raise NukeComfyError(f"script {path} does not exist or is not a file; check the path")
    try:
        nuke.scriptOpen(path)
    except RuntimeError as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise NukeComfyError(f"Nuke cannot open {path}: {first}; open it in Nuke to see what is wrong "
                             "(a node from a plugin this machine lacks, a damaged file)") from None


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " / ".join(lines) or type(exc).__name__


def main(argv: Optional[List[str]] = None) -> int:
    """Run and return the exit code; every failure is one line on stderr (module docstring)."""
    try:
        return _main(argv)
    except (NukeComfyError, OSError, RuntimeError, ValueError) as exc:
        print(f"[nuke-comfyui] {_one_line(exc)}", file=sys.stderr, flush=True)
    except Exception as exc:  # noqa: BLE001 - `nuke -t` must end with one line, not a traceback
        print(f"[nuke-comfyui] unexpected {type(exc).__name__}: {_one_line(exc)} (set {DEBUG}=1 to see where)",
              file=sys.stderr, flush=True)
        if os.environ.get(DEBUG):
            import traceback

            traceback.print_exc()
    return EXIT_FAILED


def _main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(command_line() if argv is None else argv)
    groups: Dict[str, str] = {}
    try:
        ensure_gizmo_path()
        open_script(args.script)
        names = [n.strip() for n in args.nodes.split(",") if n.strip()] or render.comfy_node_names()
        if not names:
            print(f"[nuke-comfyui] no ComfyRender nodes in {args.script}", file=sys.stderr)
            return EXIT_FAILED
        if args.farm:
            from nuke_comfyui.host.farm_submit import headless_bundles

            return headless_bundles(names, frames=args.frames, choices=farm_choices(args))
        try:
            _start(names, args, groups)
        except NukeComfyError:
            if groups:  # never leave half a run on the servers
                _stop_unfinished(groups)
            raise
        try:
            states = _follow(groups, args)
        except HeadlessStop as exc:
            print(f"[nuke-comfyui] {exc}", file=sys.stderr, flush=True)
            states = _stop_unfinished(groups)
        target = results_script(args)
        if target is not None:
            try:
                nuke.scriptSave(target)
            except (OSError, RuntimeError) as exc:
                raise NukeComfyError(f"the renders ended ({', '.join(states)}) but the results script {target} "
                                     f"could not be saved: {_one_line(exc)}; pass --save-as a writable path") from None
            print(f"[nuke-comfyui] results saved to {target}", flush=True)
    finally:
        shutdown_session()
    code = exit_code(states)
    print(f"[nuke-comfyui] done: {', '.join(states)} (exit {code})", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
