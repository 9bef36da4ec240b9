"""Entry point of the `nuke-comfyui` command: builds the parser from one module per subcommand.

Each subcommand module exposes `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
Modules are imported lazily so `nuke-comfyui status` never pays for aiohttp or Qt.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
import threading
import time
from typing import List, Optional

from nuke_comfyui import __version__
from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.redact import redact

# (command, module) in the order `--help` lists them.
COMMANDS = [
    ("demo", "nuke_comfyui.cli.demo_cmd"),
    ("render", "nuke_comfyui.cli.render_cmd"),
    ("bundle", "nuke_comfyui.cli.bundle_cmd"),
    ("inputs", "nuke_comfyui.cli.inputs_cmd"),
    ("status", "nuke_comfyui.cli.status_cmd"),
    ("groups", "nuke_comfyui.cli.groups_cmd"),
    ("resume", "nuke_comfyui.cli.resume_cmd"),
    ("retry", "nuke_comfyui.cli.retry_cmd"),
    ("cancel", "nuke_comfyui.cli.cancel_cmd"),
    ("sim", "nuke_comfyui.cli.sim_cmd"),
    ("bench", "nuke_comfyui.cli.bench_cmd"),
    ("monitor", "nuke_comfyui.cli.monitor_cmd"),
    ("screenshots", "nuke_comfyui.cli.screenshots_cmd"),
    ("install-deps", "nuke_comfyui.cli.install_deps_cmd"),
]


def _available_commands() -> List[tuple]:
    """Subcommand modules that exist in this checkout (a missing optional one is simply not offered)."""
    found = []
    for name, module_name in COMMANDS:
        try:
            spec = importlib.util.find_spec(module_name)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            found.append((name, module_name))
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nuke-comfyui",
        description="Render ComfyUI workflows across a cluster of ComfyUI servers.",
    )
    parser.add_argument("--version", action="version", version=f"nuke-comfyui {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in _available_commands():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


#: after the command, seconds left for network calls still in flight (a stalled server's probe,
#: a cancel after a second Ctrl-C) before the process ends without them
EXIT_GRACE_S = 2.0


def entry() -> None:
    """The `nuke-comfyui` command (and `python -m nuke_comfyui`): run `main`, then end the process.

    Python joins every worker thread at exit, so a probe or a cancel stuck on a server that stopped
    answering would hold the finished command for up to a route's deadline (a minute), after the
    user pressed Ctrl-C twice to stop waiting. By now the journal is closed and every result written
    (files appear whole, by rename), so those calls are abandoned after EXIT_GRACE_S.
    """
    code = main()
    deadline = time.monotonic() + EXIT_GRACE_S
    blocking = _threads_python_exit_joins()
    for thread in blocking:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in blocking):
        logging.getLogger(__name__).info("leaving network calls still waiting on a server unfinished")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


def _threads_python_exit_joins() -> List[threading.Thread]:
    """Non-daemon threads, and worker-pool threads (joined at exit even when they are daemons)."""
    import concurrent.futures.thread as pool_threads

    workers = set(getattr(pool_threads, "_threads_queues", {}))
    return [thread for thread in threading.enumerate()
            if thread is not threading.current_thread() and (not thread.daemon or thread in workers)]


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "_run", None):
        parser.print_help()
        return 1
    try:
        return int(args._run(args))
    except NukeComfyError as exc:
        print(redact(f"nuke-comfyui {args.command}: {exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:  # outside a farm session, Ctrl-C is Python's; inside, cli/interrupts.py's
        print(str(exc) or "interrupted", file=sys.stderr)
        return int(getattr(exc, "exit_code", 130))
