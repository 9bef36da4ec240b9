"""`nuke-comfyui bundle`: write a render as an OpenJD job bundle for the studio's farm manager.

Takes the same arguments as `render` and writes DIR/template.yaml + DIR/parameter_values.yaml
in AWS Deadline Cloud's layout; each task of the job runs `nuke-comfyui render` for a chunk of
the frames. `--submit` hands the bundle to `deadline bundle submit` when that command exists.
Nothing is rendered and no server is contacted here: the workers do that.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import List, Optional

from nuke_comfyui.cli import render_cmd

HELP = "write an OpenJD job bundle (AWS Deadline Cloud layout) that renders on a farm manager's workers"
SUBMIT_TIMEOUT_S = 300.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    render_cmd.add_arguments(parser)
    parser.add_argument("--bundle-dir", required=True, help="folder to write template.yaml and parameter_values.yaml")
    parser.add_argument("--layout", choices=("thin", "gpu"), default="thin",
                        help="thin: CPU workers drive the shared ComfyUI cluster (default); "
                             "gpu: each worker renders on the ComfyUI beside it")
    parser.add_argument("--frames-per-task", type=int, default=None,
                        help="frames of one farm task (default: --chunk-size)")
    parser.add_argument("--worker-command", default="nuke-comfyui",
                        help="the nuke-comfyui command on the workers (default: nuke-comfyui on PATH)")
    parser.add_argument("--comfy-port", type=int, default=8188, help="gpu layout: port of each worker's ComfyUI")
    parser.add_argument("--job-name", default="", help="name of the farm job (default: ComfyUI <label>)")
    parser.add_argument("--submit", action="store_true",
                        help="submit with `deadline bundle submit` (AWS Deadline Cloud's command) when installed")
    add_farm_job_arguments(parser)


def add_farm_job_arguments(parser: argparse.ArgumentParser) -> None:
    """Scheduling (shared with `nuke -t headless.py --farm`), colour and attachment options."""
    from nuke_comfyui.farm_bundle.choices import add_scheduling_arguments

    add_scheduling_arguments(parser)
    group = parser.add_argument_group("colour and job attachments")
    group.add_argument("--ocio-config", default=None, metavar="FILE",
                       help="OCIO config the tasks use (default: $OCIO when set)")
    group.add_argument("--shared-storage", action="append", default=[], metavar="DIR",
                       help="a folder every worker sees: inputs in it are not attached (repeatable; "
                            "shared servers' dir_local count already)")


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.cli.render_setup import build_request
    from nuke_comfyui.core.render_request import RequestError
    from nuke_comfyui.farm_bundle.bundle import check_renderable, deadline_executable, write_render_bundle
    from nuke_comfyui.farm_bundle.choices import scheduling_from
    from nuke_comfyui.farm_bundle.task_plan import check_group_id
    from nuke_comfyui.farm_bundle.template import BundleOptions

    for option in ("task_frames", "task_variations", "path_mapping_rules"):
        if getattr(args, option, None) is not None:
            raise RequestError(f"--{option.replace('_', '-')} is for the tasks of a bundle; the bundle writes it "
                               "into each task itself")
    options = BundleOptions(
        layout=args.layout, frames_per_task=args.frames_per_task, command=args.worker_command,
        config=os.path.abspath(args.config) if args.config else None, comfy_port=args.comfy_port,
        job_name=args.job_name, extra_render_args=extra_render_args(args),
        values_file=os.path.abspath(args.values_file) if args.values_file else None,
        variations_per_task=args.variations_per_task, ocio_config=ocio_config(args),
        scheduling=scheduling_from(args),
    )
    if args.group_id:
        options.group_id = check_group_id(args.group_id)
    request = build_request(args)
    check_renderable(request)
    written = write_render_bundle(args.bundle_dir, request, options, shared=shared_folders(args))
    submit = written.submit_command()
    result: dict = {"bundle_dir": str(written.folder), "template": str(written.template),
                    "parameter_values": str(written.values), "asset_references": str(written.assets),
                    "group_id": options.group_id, "submit_command": submit, "submitted": False,
                    "notes": written.notes}
    if args.submit:
        if deadline_executable() is None:
            raise RequestError(f"the `deadline` command (AWS Deadline Cloud) is not installed; the bundle is in "
                               f"{written.folder}: submit it from a machine that has it with: {_shell(submit)}")
        result["submitted"] = True
        result["submit_exit_code"] = _submit(submit, quiet=args.json)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"job bundle written to {written.folder} (group {options.group_id[:8]})")
        for note in written.notes:
            print(f"  {note}")
        if not args.submit:
            print(f"submit it with:  {_shell(submit)}")
            print(f"or run it here:  {_shell(written.local_command())}")
    return int(result.get("submit_exit_code", 0))


def ocio_config(args: argparse.Namespace) -> Optional[str]:
    """--ocio-config, else $OCIO; an absolute path (a task's working folder is not this one)."""
    from nuke_comfyui.core.render_request import RequestError
    from nuke_comfyui.farm_bundle.colour import is_builtin_config, ocio_config_from_environment

    path = args.ocio_config or ocio_config_from_environment()
    if path is None or is_builtin_config(path):
        return path
    if not os.path.isfile(path):
        source = "--ocio-config" if args.ocio_config else "$OCIO"
        raise RequestError(f"{source} {path} is not a file; give the OCIO config (config.ocio) the tasks should use")
    return os.path.abspath(path)


def shared_folders(args: argparse.Namespace) -> List[str]:
    """--shared-storage folders plus each shared server's dir_local from the settings the bundle names."""
    from nuke_comfyui.core.config_loader import load_config
    from nuke_comfyui.core.errors import ConfigError
    from nuke_comfyui.farm_bundle.asset_references import shared_roots

    try:
        servers = load_config(getattr(args, "config", None)).cluster.servers
    except ConfigError:  # no settings here is fine: the workers have their own
        servers = []
    return shared_roots(servers, [os.path.abspath(path) for path in args.shared_storage])


# `render` options the template writes itself (as job parameters or literally) or that mean nothing on a worker.
TEMPLATE_HANDLES = {"workflow", "output", "input_pattern", "frames", "variations", "seed_strategy", "base_seed",
                    "strategy", "timeout", "label", "chunk_size", "config", "journal", "json", "group_id",
                    "task_frames", "values_file", "help", "task_variations", "variations_per_task",
                    "path_mapping_rules", "overlap", "seam", "chunk_seeds", "finish_seams", "split_on_oom"}


def extra_render_args(args: argparse.Namespace) -> List[str]:
    """Any other `render` option given (e.g. one added after this command was written), as render takes it."""
    parser = argparse.ArgumentParser(add_help=False)
    render_cmd.add_arguments(parser)
    extra: List[str] = []
    for action in parser._actions:
        if action.dest in TEMPLATE_HANDLES or not action.option_strings:
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default or value is None:
            continue
        flag = action.option_strings[-1] if action.option_strings[-1].startswith("--") else action.option_strings[0]
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            extra.append(flag)
        elif isinstance(value, list):
            for item in value:
                extra += [flag, *(str(v) for v in (item if isinstance(item, (list, tuple)) else [item]))]
        else:
            extra += [flag, str(value)]
    return extra


def _submit(command: List[str], quiet: bool) -> int:
    from nuke_comfyui.core.render_request import RequestError

    try:
        done = subprocess.run(command, timeout=SUBMIT_TIMEOUT_S, check=False,
                              stdout=sys.stderr if quiet else None)
    except subprocess.TimeoutExpired:
        raise RequestError(f"`{_shell(command)}` did not finish in {SUBMIT_TIMEOUT_S:.0f} s; "
                           "check `deadline config show` and your credentials, then submit again") from None
    return done.returncode


def _shell(command: List[str]) -> str:
    import shlex

    return " ".join(shlex.quote(part) for part in command)
