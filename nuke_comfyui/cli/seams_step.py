"""`nuke-comfyui render ... --group-id G --finish-seams`: the last step of a frame-batch farm bundle.

Blends every shared frame whose chunks have all delivered their renders (farm_bundle/chunk_tasks.py
says why a separate step), prints what it made, and fails by name when a seam still waits for a
chunk (a render task failed): exit 0 when every seam is made, 1 otherwise.
"""

from __future__ import annotations

import sys
from typing import Any

from nuke_comfyui.core.variation_names import variation_name


def finish_seams(request: Any, group_id: str) -> int:
    from nuke_comfyui.blend import PixelBlender
    from nuke_comfyui.core.scheduler.batch_results import finish_seams as blend_ready
    from nuke_comfyui.core.scheduler.batch_results import pending_seams
    from nuke_comfyui.core.scheduler.request_plan import plan_for_request
    from nuke_comfyui.core.scheduler.results import OutputLayout
    from nuke_comfyui.farm_bundle.task_plan import claim_group_folder

    plan = plan_for_request(request, group_id, check_files=False, blender=PixelBlender())
    if plan.batch is None:
        print("nothing to blend: this render has no frame batches", file=sys.stderr)
        return 0
    folder = claim_group_folder(request.output_dir, plan.label, group_id)
    layout = OutputLayout(folder, plan.label, tuple(plan.output_nodes))
    variations = range(request.variations)
    made = blend_ready(plan.batch, layout, variations)
    waiting = pending_seams(plan.batch, layout, variations)
    print(f"seams: blended {len(made)} shared frames in {folder}", file=sys.stderr)
    if waiting:
        for variation, frames in waiting.items():
            print(f"seams: {variation_name(variation)} frames {','.join(map(str, frames))} still wait for a chunk; "
                  "re-run the failed render tasks, then this step", file=sys.stderr)
        return 1
    return 0
