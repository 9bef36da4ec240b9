"""Which of our prompts each server holds now: the Server Status panel's "ours" column.

Servers are shared: their queue counts mix our prompts with other artists'. This read names
ours (the group's label, frame and variation, running or waiting there), from the scheduler's
own index of prompts on servers, so it costs O(our prompts in flight), never O(jobs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from nuke_comfyui.core.scheduler.jobs import JobState


@dataclass(frozen=True)
class OurPrompt:
    """One prompt of ours on a server."""

    server: str
    job_id: str
    group_id: str
    label: str
    frame: Optional[int]
    variation: int
    prompt_id: str
    running: bool  # executing now (else queued there, or sent and not yet started)


def prompts_by_server(state: Any) -> Dict[str, List[OurPrompt]]:
    """{server: our prompts there, running first, then by job}; call with the scheduler's lock held."""
    found: Dict[str, List[OurPrompt]] = {}
    for pid, server in state.occupying.items():
        job = state.current(pid)
        if job is None:
            continue  # a prompt we gave up on: it is not a job of ours any more
        group = job.group
        found.setdefault(server, []).append(OurPrompt(
            server, job.id, group.id, group.label or group.id[:8], job.frame, job.variation, pid,
            job.state is JobState.RUNNING))
    for prompts in found.values():
        prompts.sort(key=lambda p: (not p.running, p.job_id))
    return found
