"""`nuke-comfyui render --group-id G [--task-frames F]`: what each task of a farm job bundle runs.

The same render, with two differences that make a farm manager's tasks add up to one local
render: the group id is given (so every task writes into the same group folder, with the same
names), and only the task's frames that the group has not delivered yet are rendered (so a
retried or re-run task finishes the chunk instead of starting it again). The job journal of a
task is private and thrown away: the farm manager owns retries, the group folder owns results.
A farm manager cancels a task with SIGTERM (OpenJD's NOTIFY_THEN_TERMINATE): that is taken as
Ctrl-C, so the task's prompts are deleted or interrupted on the servers before it exits.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

FARM_TASK_GROUP = "farm task (what the tasks of `nuke-comfyui bundle` run)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(FARM_TASK_GROUP)
    group.add_argument("--group-id", default=None,
                       help="render into this job group (32 hex digits) and skip the results it already has")
    group.add_argument("--task-frames", default=None,
                       help="with --group-id: only these frames of --frames (e.g. 1001-1010, OpenJD notation)")
    group.add_argument("--finish-seams", action="store_true",
                       help="with --group-id: blend the frame-batch seams whose chunks are all in; render nothing")
    group.add_argument("--task-variations", type=int, default=None, metavar="FIRST",
                       help="with --group-id: the task's first variation (1-based); with --variations-per-task")
    group.add_argument("--variations-per-task", type=int, default=None, metavar="N",
                       help="variations of one farm task (bundle: split variations into tasks of N; "
                            "a task: how many from --task-variations)")
    group.add_argument("--path-mapping-rules", default=None, metavar="FILE",
                       help="with --group-id: OpenJD path-mapping rules (pathmapping-1.0 JSON, the session's "
                            "{{Session.PathMappingRulesFile}}) applied to input values, --image, --set and "
                            "each server's dir_local")


def wanted(args: argparse.Namespace) -> bool:
    """True when the render arguments ask for a farm task."""
    return bool(getattr(args, "finish_seams", False)) or any(
        getattr(args, name, None) is not None
        for name in ("group_id", "task_frames", "task_variations", "variations_per_task", "path_mapping_rules"))


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.cli.follow import follow
    from nuke_comfyui.cli.render_setup import build_request, open_farm, prepare_inputs
    from nuke_comfyui.core.config_loader import load_config
    from nuke_comfyui.core.preflight import check_request
    from nuke_comfyui.core.render_request import RequestError
    from nuke_comfyui.core.task_lock import task_lock
    from nuke_comfyui.farm_bundle.task_plan import check_group_id, frames_in_either_notation, plan_task

    if not args.group_id:
        flags = ("task_frames", "task_variations", "variations_per_task", "path_mapping_rules")
        given = next((f"--{n.replace('_', '-')}" for n in flags if getattr(args, n, None) is not None), "--group-id ''")
        raise RequestError(f"{given} needs --group-id: a farm task renders its part of one job group")
    group_id = check_group_id(args.group_id)
    block = _variation_block(args)
    if args.frames:
        args.frames = frames_in_either_notation(args.frames)
    rules = _mapping_rules(args)
    request = build_request(args)
    if getattr(args, "finish_seams", False):
        from nuke_comfyui.cli.seams_step import finish_seams

        return finish_seams(request, group_id)
    loaded = load_config(getattr(args, "config", None))
    if rules:
        _map_paths(rules, request, loaded)
    check_request(request, loaded.cluster.servers)  # the same checks as a local render, before anything runs
    from nuke_comfyui.blend import PixelBlender

    blender = PixelBlender()
    task = plan_task(request, group_id, args.task_frames, block, blender=blender)
    done = f"{task.already_delivered} of {task.jobs_in_task} jobs already delivered"
    if not task.plan.specs:
        print(f"nothing to render: all {task.jobs_in_task} jobs of this task are in {task.folder}", file=sys.stderr)
        return 0
    print(f"farm task: rendering {len(task.plan.specs)} jobs into {task.folder} ({done})", file=sys.stderr)
    with task_lock(task.folder, group_id, args.task_frames), \
            tempfile.TemporaryDirectory(prefix="nuke-comfyui-task-") as scratch:  # one live process per task
        if not getattr(args, "journal", None):
            args.journal = str(Path(scratch) / "journal.sqlite3")
        farm = open_farm(args, loaded=loaded)
        try:
            from nuke_comfyui.cli import pixels_arg

            if args.assignments or args.images:
                prepare_inputs(request, args, farm)
            pixels_arg.print_notes(pixels_arg.fit_pixels(request, args.output_format, farm, args.plate_encoding))
            task = plan_task(request, group_id, args.task_frames, block, blender=blender)  # with inputs and pixels
            farm.scheduler.submit_plan(task.plan, group_id=group_id)
            with _sigterm_as_interrupt():
                return follow(farm.scheduler, group_id, as_json=args.json)
        finally:
            farm.stop()


def _variation_block(args: argparse.Namespace) -> Any:
    """--task-variations FIRST --variations-per-task N as the task's block of variations (None: all)."""
    from nuke_comfyui.core.render_request import RequestError
    from nuke_comfyui.farm_bundle.task_plan import VariationBlock

    if args.task_variations is None:
        return None
    count = 1 if args.variations_per_task is None else args.variations_per_task
    if count < 1:
        raise RequestError(f"--variations-per-task {count} must be 1 or more")
    return VariationBlock(args.task_variations, count)


def _mapping_rules(args: argparse.Namespace) -> Any:
    """The session's rules (none without --path-mapping-rules); --image and --set are mapped in args."""
    from nuke_comfyui.core.path_mapping_rules import PathMappingRules, map_assignments

    if not getattr(args, "path_mapping_rules", None):
        return PathMappingRules()
    rules = PathMappingRules.read(args.path_mapping_rules)
    if rules:
        args.images = map_assignments(rules, args.images)
        args.assignments = map_assignments(rules, args.assignments)
    return rules


def _map_paths(rules: Any, request: Any, loaded: Any) -> None:
    """Paths that are not job parameters, as this worker sees them (the session mapped the parameters)."""
    from nuke_comfyui.core.path_mapping_rules import map_cluster, map_frame_values, map_values

    request.values = map_values(rules, request.values)
    request.frame_values = map_frame_values(rules, request.frame_values)
    loaded.cluster = map_cluster(rules, loaded.cluster)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While following the group, SIGTERM raises KeyboardInterrupt (follow() then cancels the group)."""
    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    sigterm = getattr(signal, "SIGTERM", None)
    try:
        previous = signal.signal(sigterm, interrupt) if sigterm is not None else None
    except ValueError:  # not the main thread (tests call run() in-process from threads): nothing to install
        previous = None
    try:
        yield
    finally:
        if previous is not None and sigterm is not None:
            signal.signal(sigterm, previous)
