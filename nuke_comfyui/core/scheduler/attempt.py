"""The network side of one attempt: stage, submit, read history, collect, clean up.

These functions run on the scheduler's worker pool, never under its lock and never on the
dispatcher thread, so one slow or dead server only ever ties up its own calls. They return
plain outcomes; the scheduler turns outcomes into state changes.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from nuke_comfyui.core.image_inputs import image_value as image_value_for
from nuke_comfyui.core.pixels.server_fit import check_plate, fit_to_server
from nuke_comfyui.core.scheduler import batch_results, results, safe_removal
from nuke_comfyui.core.scheduler.plan import GroupPlan
from nuke_comfyui.core.scheduler.transfer import InputTransfer
from nuke_comfyui.core.variation_names import variation_name

log = logging.getLogger(__name__)

#: how long to keep asking for a history entry that is still `{}` right after completion
HISTORY_GRACE_S = 3.0


def submit(
    plan: GroupPlan,
    job: Any,
    *,
    client: Any,
    server: Any,
    transfer: InputTransfer,
    prompt_id: str,
    client_id: str,
    has_class: Optional[Callable[[str], bool]] = None,
    images: Optional[Any] = None,
    extra_data: Optional[Dict[str, Any]] = None,
) -> Any:
    """Stage the job's inputs on `server`, build its prompt and POST it; returns the SubmitResult.

    A chunk's frames are all staged, and its batch inputs expanded for what `server` has
    (`has_class`, the server's node list; batch_plan.py), as parts after out-of-memory attempts.
    With decided pixels the prompt is fitted to this server (`images`: its ImageCapabilities): a
    plate it cannot load raises PlateNotLoadable before anything is staged or sent.
    `extra_data` goes with the prompt (the process's preview request: comfy/preview_method.py).
    """
    if plan.pixels is not None:
        check_plate(plan.pixels, server.name, images, _job_label(job), plan.pixels.width)
    image_value: Optional[str] = None
    if job.input_path and plan.batch is None:
        image_value = transfer.image_value(job.input_path, server, client, plan.transfer)
    prompt = plan.build_prompt(plan, job, image_value)
    if plan.batch is not None:
        frames = plan.specs[job.index].frames
        batch_values = {node: [transfer.image_value(path, server, client, plan.transfer) for path in paths]
                        for node, paths in plan.batch.paths(frames).items()}
        plan.batch.expand_inputs(prompt, frames, batch_values, has_class or (lambda _name: True),
                                 job.attempts or ())
    for node_id, path in (plan.image_paths(job) if plan.image_paths is not None else {}).items():
        staged = transfer.image_value(path, server, client, plan.transfer)
        prompt[node_id].setdefault("inputs", {})["image"] = image_value_for(prompt[node_id]["class_type"], staged)
    for note in fit_to_server(prompt, plan.pixels, server.name, images, _job_label(job)) if plan.pixels else ():
        log.warning("%s", note)
    return client.submit(prompt, client_id=client_id, prompt_id=prompt_id, extra_data=extra_data)


def _job_label(job: Any) -> str:
    """'frame 1012 var01' or 'var03': how a per-job pixel note names the job."""
    variation = variation_name(int(getattr(job, "variation", 0)))
    frame = getattr(job, "frame", None)
    return f"frame {frame} {variation}" if frame is not None else variation


def read_history(client: Any, prompt_id: str, grace: float = HISTORY_GRACE_S) -> Optional[Any]:
    """History entry of a finished prompt; retries briefly while the server still answers `{}`."""
    deadline = time.monotonic() + grace
    delay = 0.02
    while True:
        entry = client.history(prompt_id)
        if entry is not None or time.monotonic() >= deadline:
            return entry
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def collect(plan: GroupPlan, job: Any, entry: Any, *, client: Any, server: Any,
            max_bytes: Optional[int] = None) -> List[str]:
    """Bring a finished job's files into the group's output folder (each at most `max_bytes`)."""
    assert plan.layout is not None, "the scheduler sets the layout when the group is created"
    mode = str(plan.transfer or getattr(server, "transfer", "upload") or "upload")
    if plan.batch is not None:
        return batch_results.collect_chunk(plan.batch, plan.layout, variation=job.variation,
                                           frames=plan.specs[job.index].frames, outputs=entry.outputs,
                                           client=client, server=server, transfer=mode,
                                           attempts=job.attempts or (), max_bytes=max_bytes)
    return results.collect(
        plan.layout,
        variation=job.variation,
        frame=job.frame,
        outputs=entry.outputs,
        client=client,
        server=server,
        transfer=mode,
        max_bytes=max_bytes,
    )


def cleanup(client: Any, prompt_ids: Sequence[str]) -> None:
    """Remove our prompts from a server: delete the pending ones, interrupt our running one.

    Safe on every release (safe_removal.py): never a bare /interrupt, and on servers whose
    interrupt is not targeted, only when our prompt is the one running. A running prompt left to
    finish is logged as a warning (cancel reports it to the user: cancelling.py).
    """
    safe_removal.remove(client, prompt_ids)
