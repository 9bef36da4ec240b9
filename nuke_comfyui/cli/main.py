"""Entry point of the `nuke-comfyui` command: builds the parser from one module per subcommand.

Each subcommand module exposes `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
Modules are imported lazily so `nuke-comfyui status` never pays for aiohttp or Qt.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
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
