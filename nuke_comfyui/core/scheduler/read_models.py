"""Read models: the immutable snapshots, progress counters and output sequences of a group.

Functions of a group's live state, called under the scheduler's lock: what panels, the host and
the CLI see. None changes job state. Only `group_snapshot` is O(jobs); progress, the view and the
changes read cost O(sequences + failures + changes), from what the group keeps as jobs change
(group.py) and its SequenceBook (sequence_book.py).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from nuke_comfyui.core.scheduler.events import (
    AttemptSnapshot,
    GroupChanges,
    GroupProgress,
    GroupSnapshot,
    GroupView,
    JobSnapshot,
    OutputSequence,
)
from nuke_comfyui.core.scheduler.group import GROUP_FINAL, Group
from nuke_comfyui.core.scheduler.jobs import Job, JobState
from nuke_comfyui.core.scheduler.sequence_book import SequenceBook, split_output


def job_snapshot(job: Job, with_attempts: bool = True) -> JobSnapshot:
    return JobSnapshot(
        job_id=job.id, group_id=job.group.id, index=job.index, frame=job.frame, variation=job.variation,
        seed=job.seed, state=job.state, server=job.server, prompt_id=job.prompt_id,
        attempts=len(job.attempts or ()), progress=job.progress, outputs=list(job.outputs or ()),
        error=job.error, depends_on=list(job.depends_on),
        attempt_log=[AttemptSnapshot(a.n, a.server, a.prompt_id, a.started, a.ended, a.outcome, a.error)
                     for a in (job.attempts or ())] if with_attempts else [],
        frames=frames_of(job), seeded=bool(getattr(job.group.plan, "seeded", True)),
    )


def frames_of(job: Job) -> Tuple[int, ...]:
    """The frames a job renders, from its group's plan (a chunk's, or its one frame)."""
    specs = getattr(job.group.plan, "specs", None) or ()
    if job.index < len(specs):
        return tuple(specs[job.index].frames)
    return (job.frame,) if job.frame is not None else ()


def progress(group: Group) -> GroupProgress:
    state = group.state
    return GroupProgress(group.id, group.label, state, group.done, group.failed, group.total,
                         group.fraction(), group.eta(), halted_of(group, state))


def halted_of(group: Group, state: Any = None) -> Optional[str]:
    """Why none of the group's remaining work is sent (the journal), while some remains."""
    if group.halted is None:
        return None
    return None if (state if state is not None else group.state) in GROUP_FINAL else group.halted


def group_snapshot(group: Group) -> GroupSnapshot:
    return GroupSnapshot(
        group_id=group.id, label=group.label, state=group.state, output_dir=group.output_dir,
        jobs=[job_snapshot(job) for job in group.jobs], done=group.done, failed=group.failed,
        total=group.total, fraction=group.fraction(), eta_s=group.eta(), sequences=sequences(group),
        version=group.version, halted=halted_of(group),
    )


def group_view(group: Group) -> GroupView:
    failed = sorted(group.failed_jobs, key=lambda job: job.index)
    return GroupView(
        group_id=group.id, label=group.label, state=group.state, output_dir=group.output_dir,
        done=group.done, failed=group.failed, cancelled=group.counts[JobState.CANCELLED], total=group.total,
        fraction=group.fraction(), eta_s=group.eta(), sequences=sequences(group),
        failed_jobs=[job_snapshot(job) for job in failed], version=group.version, halted=halted_of(group),
    )


def group_changes(group: Group, since: int) -> GroupChanges:
    """The children changed after `since`, plus every in-flight one: their attempts move through
    in-memory steps (e.g. "collecting") that are not journaled changes, and there are only as many
    as the servers have slots."""
    changed = group.changed_since(since)
    full = changed is None
    if changed is None:
        jobs = group.jobs
    else:
        seen = set(changed)
        jobs = changed + sorted((job for job in group.active if job not in seen), key=lambda job: job.index)
    return GroupChanges(
        group_id=group.id, since=since, version=group.version, full=full, progress=progress(group),
        jobs=[job_snapshot(job) for job in jobs], sequences=book(group).sequences(None if full else since),
    )


def book(group: Group) -> SequenceBook:
    """The group's SequenceBook (made on first use; the requested ranges are read from the plan once)."""
    found: SequenceBook = group.sequence_book
    if found is None:
        found = group.sequence_book = SequenceBook(group, requested_ranges(group))
    return found


def sequences(group: Group) -> List[OutputSequence]:
    """Every output sequence of the group (from its SequenceBook: O(sequences), not O(jobs))."""
    return book(group).sequences()


def scan_sequences(group: Group) -> List[OutputSequence]:
    """One OutputSequence per variation and output file stem, from the completed children.

    The definition the SequenceBook keeps up to date incrementally, computed from scratch over
    every child (tests compare the two).

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
            base, ext, stem, frame = split_output(path)
            key = (job.variation, base, ext)
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
            servers=sorted(entry["servers"]), seeded=getattr(group.plan, "seeded", True),
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
