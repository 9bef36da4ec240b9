"""Read models: the immutable snapshots, progress counters and output sequences of a group.

Pure functions of a group's live state (called under the scheduler's lock): what panels, the
host and the CLI see. Nothing here changes state.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from nuke_comfyui.core.scheduler.events import (
    AttemptSnapshot,
    GroupProgress,
    GroupSnapshot,
    JobSnapshot,
    OutputSequence,
)
from nuke_comfyui.core.scheduler.group import Group
from nuke_comfyui.core.scheduler.jobs import Job, JobState


def job_snapshot(job: Job, with_attempts: bool = True) -> JobSnapshot:
    return JobSnapshot(
        job_id=job.id, group_id=job.group.id, index=job.index, frame=job.frame, variation=job.variation,
        seed=job.seed, state=job.state, server=job.server, prompt_id=job.prompt_id,
        attempts=len(job.attempts or ()), progress=job.progress, outputs=list(job.outputs or ()),
        error=job.error, depends_on=list(job.depends_on),
        attempt_log=[AttemptSnapshot(a.n, a.server, a.prompt_id, a.started, a.ended, a.outcome, a.error)
                     for a in (job.attempts or ())] if with_attempts else [],
    )


def progress(group: Group) -> GroupProgress:
    return GroupProgress(group.id, group.label, group.state, group.done, group.failed, group.total,
                         group.fraction(), group.eta())


def group_snapshot(group: Group) -> GroupSnapshot:
    return GroupSnapshot(
        group_id=group.id, label=group.label, state=group.state, output_dir=group.output_dir,
        jobs=[job_snapshot(job) for job in group.jobs], done=group.done, failed=group.failed,
        total=group.total, fraction=group.fraction(), eta_s=group.eta(), sequences=sequences(group),
    )


def sequences(group: Group) -> List[OutputSequence]:
    """One OutputSequence per variation and output file stem, from the completed children.

    The frame of each file is read back from its name (`<stem>.<frame>.<ext>`, see results.py),
    so chunks of several frames report every frame they delivered. `first`/`last` span the frames
    *requested* for that variation, so a Read node covers the whole range while frames land. A
    still (a variation rendered without frames) is a one-frame sequence: its exact path, frame 1.
    """
    found: Dict[Tuple[int, str, str], Dict[str, Any]] = {}
    for job in group.jobs:
        if job.state is not JobState.COMPLETED:
            continue
        for path in job.outputs or ():
            folder, _, name = path.replace("\\", "/").rpartition("/")
            parts = name.split(".")
            if len(parts) >= 3 and parts[-2].lstrip("-").isdigit():
                stem, frame = ".".join(parts[:-2]), int(parts[-2])
                key = (job.variation, f"{folder}/{stem}.%04d", "." + parts[-1])
            else:  # a still: the file itself is the sequence
                stem, frame = name.rsplit(".", 1)[0], 1
                key = (job.variation, path, "")
            entry = found.setdefault(key, {"seed": job.seed, "frames": set(), "servers": set(), "stem": stem})
            entry["frames"].add(frame)
            if job.server:
                entry["servers"].add(job.server)
    requested = requested_ranges(group)
    nodes = list(getattr(group.plan, "output_nodes", ()) or ())
    result = []
    for (variation, base, ext), entry in sorted(found.items()):
        frames = sorted(entry["frames"])
        first, last = requested.get(variation, (frames[0], frames[-1])) if ext else (1, 1)
        node = next((n for n in nodes if entry["stem"].endswith(f"_{n}")), nodes[0] if nodes else "")
        result.append(OutputSequence(
            variation=variation, seed=entry["seed"], output_node=node, pattern=f"{base}{ext}",
            first=min(first, frames[0]), last=max(last, frames[-1]), frames_done=frames,
            servers=sorted(entry["servers"]),
        ))
    return result


def requested_ranges(group: Group) -> Dict[int, Tuple[int, int]]:
    """First and last frame asked for, per variation (from the plan, chunks included)."""
    ranges: Dict[int, Tuple[int, int]] = {}
    for spec in getattr(group.plan, "specs", ()) or ():
        frames = [f for f in (tuple(spec.frames) or (spec.frame,)) if f is not None]
        if frames:
            low, high = ranges.get(spec.variation, (min(frames), max(frames)))
            ranges[spec.variation] = (min(low, *frames), max(high, *frames))
    return ranges
