"""What one farm task renders: its frames of the group, minus what the group already delivered.

A task is planned from the whole group's request, so every job keeps the seed, frame chunk and
output name the local render of that request would give it; the task then keeps the jobs that
start at one of its frames and drops those whose files are already in the group folder. Result files
are only ever renamed into place whole (core/scheduler/results.py), so a file that exists is
complete: a farm manager's retry renders the rest, and never overwrites a finished frame with a
partial one.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, List, Optional, Sequence, Set, Tuple

from nuke_comfyui.core.chunk_plan import FINAL, SKIPPED, STAGED
from nuke_comfyui.core.frames import FrameSet
from nuke_comfyui.core.render_request import RenderRequest, RequestError
from nuke_comfyui.core.scheduler.plan import GroupPlan, JobSpec
from nuke_comfyui.core.scheduler.request_plan import plan_for_request
from nuke_comfyui.core.scheduler.results import OutputLayout, group_folder
from nuke_comfyui.core.seams import SEAMS_FOLDER, staged_path
from nuke_comfyui.farm_bundle.frame_ranges import from_openjd

_GROUP_ID = re.compile(r"^[0-9a-f]{32}$")
_RESULT_EXT = re.compile(r"^\.[a-z0-9]{1,8}$")


def check_group_id(text: Optional[str]) -> str:
    """A group id as written into bundles: 32 lower-case hex digits (it names the result folder)."""
    if not text or not _GROUP_ID.match(text):
        raise RequestError(f"group id {text!r} must be 32 hex digits (0-9, a-f), as `nuke-comfyui bundle` writes it")
    return text


def frames_in_either_notation(text: str) -> str:
    """A frame set in Nuke's grammar, from Nuke's ("1-99x2") or OpenJD's ("1-99:2") notation."""
    return from_openjd(text) if ":" in text else text


@dataclass
class TaskPlan:
    plan: GroupPlan
    folder: Path
    jobs_in_task: int
    already_delivered: int


@dataclass(frozen=True)
class VariationBlock:
    """The variations one task renders: `count` from `first` (1-based, as the v01 folder names them)."""

    first: int
    count: int

    def holds(self, variation: int) -> bool:
        """True for the 0-based `variation` of a job."""
        return self.first - 1 <= variation < self.first - 1 + self.count


def plan_task(request: RenderRequest, group_id: str, task_frames: Optional[str],
              variations: Optional[VariationBlock] = None, *, blender: Any = None) -> TaskPlan:
    """Plan the jobs of `task_frames` (all frames when None) and `variations` (all when None) of
    group `group_id` still to deliver; `blender` makes the frame-batch seams whose chunks are all
    in when the task's chunk lands."""
    check_group_id(group_id)
    request = request.with_group_seed(group_id)  # no base seed: the group's drawn one, the same in every task
    # A fresh id per run for the prompts' filename prefixes: the group id itself names the folder.
    plan = plan_for_request(request, uuid.uuid4().hex, check_files=False,  # the task command checked them
                            blender=blender)
    folder = claim_group_folder(request.output_dir, plan.label, group_id)
    layout = OutputLayout(folder, plan.label, tuple(plan.output_nodes))
    mine = _task_specs(plan.specs, task_frames)
    if variations is not None:
        if not 1 <= variations.first <= request.variations or variations.count < 1:
            raise RequestError(f"task variations {variations.first} (+{variations.count}) are not variations "
                               f"of the group (1-{request.variations}); give --task-variations within --variations")
        mine = [spec for spec in mine if variations.holds(spec.variation)]
    todo = [spec for spec in mine if not delivered(layout, spec, plan.batch)]
    plan.specs = [replace(spec, index=i, depends_on=()) for i, spec in enumerate(todo)]
    plan.layout = layout
    return TaskPlan(plan, folder, len(mine), len(mine) - len(todo))


def claim_group_folder(output_dir: str, label: str, group_id: str) -> Path:
    """The group folder; tasks of one group starting at the same moment on many workers all get
    the same one (core's group_folder claims it with a marker that appears whole)."""
    return group_folder(output_dir, label, group_id)


def _frames_of(spec: JobSpec) -> Tuple[Optional[int], ...]:
    return tuple(spec.frames) or (spec.frame,)


def _task_specs(specs: Sequence[JobSpec], task_frames: Optional[str]) -> List[JobSpec]:
    if task_frames is None:
        return list(specs)
    wanted: Set[int] = set(FrameSet.parse(from_openjd(task_frames)))
    group_frames = {f for spec in specs for f in _frames_of(spec) if f is not None}
    # Frames outside the group are ignored (a wrapper may pass <start>-<end> of a stepped range),
    # but a task that shares no frame with the group is a mistake worth naming.
    if not wanted & group_frames:
        raise RequestError(f"task frames {task_frames} are not frames of the group; "
                           "give --task-frames within --frames")
    # A job belongs to the task that holds its first frame: every job of the group then runs in
    # exactly one task, whole, however the farm manager cut the frames (OpenJD balances chunks,
    # Deadline Cloud may adapt them to a target runtime), so batches match the local render's.
    chosen = [spec for spec in specs if _frames_of(spec)[0] in wanted]
    return chosen


def delivered(layout: OutputLayout, spec: JobSpec, batch: Any = None) -> bool:
    """True when every output of the job (each frame, each output node) is already in the folder.

    A frame-batch chunk has delivered a frame it shares with a neighbour once its render is kept
    aside for the seam (or the seam is made), and never needs a frame a later chunk owns ("cut").
    """
    folder = layout.variation_dir(spec.variation)
    try:
        names = [n for n in os.listdir(folder) if not n.startswith(".")]
    except FileNotFoundError:
        return False
    nodes = list(layout.output_nodes) or [""]
    chunk = batch.chunk_of(spec.frames) if batch is not None and spec.frames else None
    for frame in _frames_of(spec):
        how = batch.chunks.delivery(chunk.index, frame) if chunk is not None and frame is not None else FINAL
        if how == SKIPPED:
            continue
        for node in nodes:
            if how == STAGED and _kept_aside(folder, layout.stem(spec.variation, node, 0), frame, chunk.index):
                continue
            stem = layout.stem(spec.variation, node, 0) + (f".{frame:04d}" if frame is not None else "")
            if not any(name.startswith(stem) and _RESULT_EXT.match(name[len(stem):]) for name in names):
                return False
    return True


def _kept_aside(folder: Path, stem: str, frame: int, chunk_index: int) -> bool:
    """The chunk's render of a shared frame waits in `.seams/` for its neighbour."""
    prefix = staged_path(folder, stem, frame, chunk_index, "").name
    try:
        return any(name.startswith(prefix) for name in os.listdir(folder / SEAMS_FOLDER))
    except FileNotFoundError:
        return False
