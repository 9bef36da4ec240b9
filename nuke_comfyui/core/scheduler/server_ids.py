"""Prompts on servers that make their own ids (ComfyUI before 0.3.45): adopt the id they answer with.

We choose each prompt's id and journal it before the POST, so a crash never loses track of a
prompt. A server older than 0.3.45 ignores our id and queues the prompt under one it makes up;
the POST answer carries it. `adopt` moves every index of the job (prompt map, server slot,
in-flight marker, timers, the attempt) to that id and journals it, so events, polls, resume and
cancel all use the id the server knows. From then on the job is polled as well as followed by
events (every poll interval, until it ends): its first events may have arrived before we knew
which id they belonged to, and a poll cannot miss what they said.

If the answer is lost or we crash before adopting, our id travels in the prompt's extra_data;
`find_replaced` looks it up (queue, then recent history) when the server says it does not know
our id, so resume re-attaches instead of rendering the job a second time.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nuke_comfyui.core.scheduler.jobs import Job
from nuke_comfyui.core.scheduler.state import SchedulerState

log = logging.getLogger(__name__)


def returned_id(result: Any, ours: str) -> str:
    """The id the server queued our prompt under (ours when it kept it)."""
    theirs = getattr(result, "prompt_id", ours)
    return theirs if isinstance(theirs, str) and theirs else ours


def adopt(s: SchedulerState, job: Job, ours: str, theirs: str) -> None:
    """Re-key the job's current prompt from our id to the server's (under the state lock)."""
    log.info("job %s: %s queued prompt %s as %s (ComfyUI before 0.3.45 makes its own ids)",
             job.id, job.server, ours, theirs)
    if s.by_prompt.get(ours) is job:
        s.by_prompt[theirs] = s.by_prompt.pop(ours)
    if ours in s.occupying:
        s.occupying[theirs] = s.occupying.pop(ours)
        s.dispatcher.rekey(s.occupying[theirs], ours, theirs)
    marker = s.submitting.pop(ours, None)
    if marker is not None:
        s.submitting[theirs] = marker
    job.prompt_id = theirs
    for attempt in job.attempts or ():
        if attempt.prompt_id == ours:
            attempt.prompt_id = theirs
            s.dirty_attempt(job, attempt)
    for deadline, _, kind, timed, pid in list(s.timers):
        if timed is job and pid == ours:
            s.push_timer(deadline, kind, job, theirs)
    job.watched = False  # poll it: events sent before the answer named an id we did not know yet
    s.job_changed(job)


def find_replaced(client: Any, ours: str) -> Optional[str]:
    """The server's id for our prompt on a server that ignores client ids; None elsewhere or if absent."""
    caps = getattr(client, "capabilities", None)
    find = getattr(client, "find_prompt", None)
    if caps is None or caps.client_prompt_id or find is None:
        return None
    found = find(ours)
    return found if isinstance(found, str) and found != ours else None
