"""Frame batches on a farm: every task renders a whole number of chunks, and a last step makes the seams.

A local render cuts the shot into chunks (core/chunk_plan.py); so does every farm task, from the
same request, so a chunk has the same frames, seed and batch wherever it runs. For a frame-batch
render the bundle's task parameter therefore ranges over the chunks' first frames (job parameter
`ChunkStarts`), not over every frame: OpenJD cuts that range into tasks of `ChunkSize` chunk
starts each (default one chunk per task; `--frames-per-task F` asks for F // chunk size chunks,
at least one), and a task renders exactly the chunks that start in it (task_plan.py).

Seams. A task blends the shared frames whose renders are all in when its chunk lands (the same
code as a local render). Two neighbouring chunks in different tasks finish in either order, on
different machines, over a shared file system that may show a new file late; so when the render
crossfades shared frames the bundle has a second step, "Seams", which runs once after every
render task and blends whatever is left (`render --group-id G --finish-seams`). The blend is a
pure function of the two renders and the weights, so the farm's frames equal a local render's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from nuke_comfyui.core.frames import FrameSet
from nuke_comfyui.farm_bundle.frame_ranges import to_openjd

SEAMS_STEP = "Seams"
#: render options (each followed by its value) that name one task's part of the group
TASK_ONLY = ("--task-frames", "--task-variations", "--variations-per-task")


def chunk_starts(request: Any) -> Optional[str]:
    """The first frames of the request's chunks as an OpenJD range (None: not a frame-batch render)."""
    plan = request.chunk_plan() if request.frames else None
    if plan is None:
        return None
    return to_openjd(str(FrameSet(chunk.frames[0] for chunk in plan.chunks)))


def chunks_per_task(request: Any, frames_per_task: Optional[int]) -> int:
    """Whole chunks per farm task: one, or as many as fit in `frames_per_task` frames (at least one)."""
    if frames_per_task is None:
        return 1
    return max(1, frames_per_task // max(1, request.chunk_size))


def needs_seams_step(request: Any) -> bool:
    plan = request.chunk_plan() if request.frames else None
    return plan is not None and bool(plan.shared_frames())


def seams_step(request: Any, command: str, render_args: List[str], environments: Any = None) -> Dict[str, Any]:
    """The step that blends the seams left after every render task (one task, after the Render step)."""
    args: List[str] = []
    skip = False
    for arg in render_args:  # the step covers every chunk and variation: no task's own part
        if skip:
            skip = False
        elif arg in TASK_ONLY:
            skip = True
        else:
            args.append(arg)
    step: Dict[str, Any] = {"name": SEAMS_STEP, "dependencies": [{"dependsOn": "Render"}]}
    if environments:
        step["stepEnvironments"] = environments
    step["script"] = {"actions": {"onRun": {"command": command, "args": [*args, "--finish-seams"]}}}
    return step
