"""Turning a RenderRequest into a GroupPlan: the glue between the request, the workflow and jobs.

Everything that can be wrong with a request (workflow not in API format, ambiguous input or
output nodes, a bad frame set, missing input frames) is raised here, at submit time, before a
single job exists. The prompt of each job is then built lazily from the template at dispatch:
a fresh copy with the job's seed in every seed-like sampler input (unless one variation keeps
the workflow's own seed), the request's input values for the job's frame, its input images as
the server sees them, and a filename_prefix unique to the group, job and attempt. UI-format
workflows are converted with the servers' `/object_info` (see `plan_factory`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

from nuke_comfyui.core.image_inputs import LOADER_CLASSES
from nuke_comfyui.core.scheduler.plan import GroupPlan, JobSpec, duration_key, filename_prefix
from nuke_comfyui.core.seeds import MAX_SEED
from nuke_comfyui.core.sequence_pattern import SequencePattern


def plan_factory(object_info: Callable[[], Dict[str, Any]], blender: Any = None) -> Callable[[Any, str], GroupPlan]:
    """A scheduler plan factory that converts UI-format workflows with `object_info()` (the pool's);
    `blender` makes the seams of frame batches (nuke_comfyui/blend; None: only seam "cut" works)."""
    from nuke_comfyui.core.seams import NoBlender

    seam_blender = blender if blender is not None else NoBlender()

    def factory(request: Any, group_id: str) -> GroupPlan:
        return plan_for_request(request, group_id, object_info=object_info(), blender=seam_blender)
    return factory


def plan_for_request(request: Union[Any, str], group_id: str, object_info: Optional[Dict[str, Any]] = None,
                     *, check_files: bool = True, blender: Any = None) -> GroupPlan:
    """Plan a RenderRequest (or its JSON, as journaled) for the group `group_id`.

    `check_files=False` plans without looking at the disk (no output folder made, input frames not
    required yet): a farm bundle is written before its plate may exist where the workers read it.
    """
    from nuke_comfyui.core import preflight, workflow_inputs
    from nuke_comfyui.core import workflow as wf
    from nuke_comfyui.core.render_request import RenderRequest, RequestError
    from nuke_comfyui.core.ui_convert import dynamic_prompts, marks

    if isinstance(request, str):  # resume: its finished jobs need no input files any more
        request = RenderRequest.from_json(request)  # as journaled: a group made before seeds were drawn keeps 0
        check_files = False
    else:
        request.validate()
        request = request.with_group_seed(group_id)  # several variations, no base seed: one drawn for the group
    if check_files:
        preflight.check_output_folder(request.output_dir)
        preflight.check_input_frames(request)
    template: Dict[str, Any] = wf.load_workflow(request.workflow_path, object_info or None)
    images = dict(request.images or {})
    for node_id in images:
        if node_id not in template or template[node_id]["class_type"] not in LOADER_CLASSES:
            raise RequestError(f"image input {node_id!r} is not an image-loading node of the workflow; "
                               "`nuke-comfyui inputs WORKFLOW` lists them")
    input_node: Optional[str] = (wf.find_input_node({k: v for k, v in template.items() if k not in images})
                                 if request.input_pattern else None)
    output_nodes: List[str] = list(wf.find_output_nodes(template))
    keep_seed = request.keeps_workflow_seed()
    seeds = wf.seed_inputs(template)
    if request.variations > 1 and not seeds:
        raise RequestError(f"the workflow has no seed input (seed, noise_seed, *_seed), so {request.variations} "
                           "variations would be identical copies; render 1 variation, or add a sampler seed")
    workflow_inputs.check_keys(template, list(request.values or {}) + list(request.frame_values or {}),
                               request.values)
    request.dynamic_prompts = dynamic_prompts.texts(template) or None
    own_seed = template[seeds[0][0]]["inputs"][seeds[0][1]] if seeds else 0
    template_json = json.dumps(template, sort_keys=True)
    specs = [
        JobSpec(
            index=index,
            frame=spec.frame,
            variation=spec.variation,
            seed=(own_seed if 0 <= own_seed <= MAX_SEED else 0) if keep_seed else spec.seed,
            input_path=spec.input_path,
            depends_on=tuple(spec.depends_on),
            frames=tuple(spec.frames),
        )
        for index, spec in enumerate(request.expand())
    ]

    def build_prompt(plan: GroupPlan, job: Any, image_value: Optional[str]) -> Dict[str, Any]:
        prompt = plan.template()
        if not keep_seed:
            wf.patch_seeds(prompt, job.seed)
        workflow_inputs.apply_values(prompt, request.values_for(job.frame))
        dynamic_prompts.resolve_prompt(prompt, job.seed)  # after the values: an animated text is resolved too
        marks.strip(prompt)
        if input_node is not None and image_value is not None:
            wf.patch_image(prompt, input_node, image_value)
        attempt = len(job.attempts or ()) or 1
        wf.patch_filename_prefix(prompt, filename_prefix(group_id, job.index, attempt), output_nodes)
        return prompt

    batch = None
    chunks = request.chunk_plan()
    if chunks is not None:
        from nuke_comfyui.core.scheduler.batch_plan import frame_batch_plan

        batch = frame_batch_plan(request, template, input_node=input_node, images=images, chunks=chunks,
                                 output_nodes=output_nodes, blender=blender)
        images = {node_id: pattern for node_id, pattern in images.items() if node_id not in batch.patterns}
    placement_needs = batch.requirements() if batch is not None else ()

    def image_paths(job: Any) -> Dict[str, str]:
        return {node_id: SequencePattern.parse(pattern).path_for(job.frame)
                if job.frame is not None and ("#" in pattern or "%" in pattern) else pattern
                for node_id, pattern in images.items()}

    return GroupPlan(
        seeded=bool(seeds),
        label=request.label or Path(request.workflow_path).stem,
        output_dir=request.output_dir,
        specs=specs,
        template_json=template_json,
        build_prompt=build_prompt,
        placement={
            "class_types": set(wf.class_types(template)),
            "job_type": request.job_type,
            "duration_key": duration_key(template_json, request.chunk_size if chunks is not None else 1),
            "strategy": request.strategy,
            **({"any_of": placement_needs} if placement_needs else {}),
        },
        output_nodes=tuple(output_nodes),
        timeout=request.timeout,
        transfer=request.transfer,
        servers=list(request.servers) if request.servers else None,
        request_json=request.to_json(),
        image_paths=image_paths if images else None,
        batch=batch,
        pixels=_pixels(request),
    )


def _pixels(request: Any) -> Optional[Any]:
    """The request's decided pixels (None for a request made before pixels were decided)."""
    from nuke_comfyui.core.pixels import PixelRequest

    return PixelRequest.from_dict(request.pixels) if getattr(request, "pixels", None) else None
