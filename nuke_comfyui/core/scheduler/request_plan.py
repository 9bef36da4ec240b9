"""Turning a RenderRequest into a GroupPlan: the glue between the request, the workflow and jobs.

Everything that can be wrong with a request (workflow not in API format, ambiguous input or
output nodes, a bad frame set, missing input frames) is raised here, at submit time, before a
single job exists. The prompt of each job is then built lazily from the template at dispatch:
a fresh copy with the job's seed in every seed-like sampler input, its input image as the
server sees it, and a filename_prefix unique to the group, job and attempt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from nuke_comfyui.core.scheduler.plan import GroupPlan, JobSpec, duration_key, filename_prefix


def plan_for_request(request: Union[Any, str], group_id: str, *, check_files: bool = True) -> GroupPlan:
    """Plan a RenderRequest (or its JSON, as journaled) for the group `group_id`.

    `check_files=False` plans without looking at the disk (no output folder made, input frames not
    required yet): a farm bundle is written before its plate may exist where the workers read it.
    """
    from nuke_comfyui.core import preflight
    from nuke_comfyui.core import workflow as wf
    from nuke_comfyui.core.render_request import RenderRequest

    if isinstance(request, str):  # resume: its finished jobs need no input files any more
        request = RenderRequest.from_json(request)
        check_files = False
    else:
        request.validate()
    if check_files:
        preflight.check_output_folder(request.output_dir)
        preflight.check_input_frames(request)
    template: Dict[str, Any] = wf.load_workflow(request.workflow_path)
    input_node: Optional[str] = wf.find_input_node(template) if request.input_pattern else None
    output_nodes: List[str] = list(wf.find_output_nodes(template))
    template_json = json.dumps(template, sort_keys=True)
    specs = [
        JobSpec(
            index=index,
            frame=spec.frame,
            variation=spec.variation,
            seed=spec.seed,
            input_path=spec.input_path,
            depends_on=tuple(spec.depends_on),
            frames=tuple(spec.frames),
        )
        for index, spec in enumerate(request.expand())
    ]

    def build_prompt(plan: GroupPlan, job: Any, image_value: Optional[str]) -> Dict[str, Any]:
        prompt = plan.template()
        wf.patch_seeds(prompt, job.seed)
        if input_node is not None and image_value is not None:
            wf.patch_image(prompt, input_node, image_value)
        attempt = len(job.attempts or ()) or 1
        wf.patch_filename_prefix(prompt, filename_prefix(group_id, job.index, attempt), output_nodes)
        return prompt

    return GroupPlan(
        label=request.label or Path(request.workflow_path).stem,
        output_dir=request.output_dir,
        specs=specs,
        template_json=template_json,
        build_prompt=build_prompt,
        placement={
            "class_types": set(wf.class_types(template)),
            "job_type": request.job_type,
            "duration_key": duration_key(template_json),
            "strategy": request.strategy,
        },
        output_nodes=tuple(output_nodes),
        timeout=request.timeout,
        transfer=request.transfer,
        servers=list(request.servers) if request.servers else None,
        request_json=request.to_json(),
    )
