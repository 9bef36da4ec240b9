"""The end of a followed render: its summary (text or `--json`) and its exit code.

Why its own module: the summary is what a pipeline's log keeps, so it says everything once — what
is on disk where, each distinct failure reason once with how many jobs it hit and which, the
servers that stalled on its jobs (their work re-queued elsewhere) or were down or unusable, the
base seed that repeats the render, and the one command that re-runs what failed.

Exit codes (the README's table): 0 everything rendered; 2 some of it (a partial group, or a
cancelled one with finished frames); 1 nothing (or a setup error, before anything ran); 130
interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import json
import sys
from collections import OrderedDict
from typing import IO, Any, Dict, List, Optional, Sequence

from nuke_comfyui.core.frames import frame_ranges
from nuke_comfyui.core.mixed_formats import mixed_formats
from nuke_comfyui.core.scheduler import GroupSnapshot, GroupState, JobState
from nuke_comfyui.core.variation_names import variation_name

EXIT_ALL, EXIT_NOTHING, EXIT_PARTIAL = 0, 1, 2
FAILED_STATES = (JobState.FAILED, JobState.TIMEOUT)
#: jobs named after a failure reason before the rest are only counted
NAMED_JOBS = 6


def exit_code(snapshot: Any) -> int:
    """0 all completed, 2 some completed (partial, or cancelled after some frames), 1 none.

    Takes a snapshot (or anything with `state`, `done`, `total`); a bare GroupState is read as
    completed -> 0 and partial -> 2, anything else 1.
    """
    if isinstance(snapshot, GroupState):
        return {GroupState.COMPLETED: EXIT_ALL, GroupState.PARTIAL: EXIT_PARTIAL}.get(snapshot, EXIT_NOTHING)
    if snapshot.state is GroupState.COMPLETED and snapshot.done == snapshot.total:
        return EXIT_ALL
    return EXIT_PARTIAL if snapshot.done > 0 else EXIT_NOTHING


def combined_exit_code(codes: Sequence[int]) -> int:
    """Several groups (the demo's two) as one: 0 all, 1 none, 2 anything between."""
    if all(code == EXIT_ALL for code in codes):
        return EXIT_ALL
    if all(code == EXIT_NOTHING for code in codes):
        return EXIT_NOTHING
    return EXIT_PARTIAL


def which_jobs(jobs: Sequence[Any]) -> str:
    """`var01 frames 1001-1003,1007; var02 frame 1001` or `var02, var05` — the jobs a reason hit."""
    frames: Dict[int, List[int]] = OrderedDict()
    stills: List[int] = []
    for job in jobs:
        if job.frame is None:
            stills.append(job.variation)
        else:  # a chunk of a frame batch names all its frames
            frames.setdefault(job.variation, []).extend(tuple(getattr(job, "frames", ()) or ()) or (job.frame,))
    parts = [f"{variation_name(v)} frame{'s' if len(f) > 1 else ''} {frame_ranges(f)}" for v, f in frames.items()]
    named = [variation_name(v) for v in sorted(set(stills))]
    if len(named) > NAMED_JOBS:
        named = [*named[:NAMED_JOBS], f"{len(named) - NAMED_JOBS} more"]
    return "; ".join(parts + ([", ".join(named)] if named else []))


def reason_of(job: Any) -> str:
    """A job's failure reason without the server's name in it ("ComfyUI rejected the workflow: gpu01:
    ..." and the same from gpu02 are one reason), on one line."""
    text = str(job.error or getattr(job.state, "value", job.state))
    if job.server:
        text = text.replace(f"{job.server}: ", "")
    return one_line(text)


def failure_reasons(jobs: Sequence[Any]) -> OrderedDict[str, List[Any]]:
    """Failed and timed-out jobs grouped by their reason, in the order the reasons first appear."""
    reasons: OrderedDict[str, List[Any]] = OrderedDict()
    for job in jobs:
        if job.state in FAILED_STATES:
            reasons.setdefault(reason_of(job), []).append(job)
    return reasons


def counted(snapshot: Any) -> str:
    """`3/3 completed`, or for frame batches `3/3 chunks completed (20 frames)`."""
    chunks = any(len(getattr(job, "frames", ()) or ()) > 1 for job in snapshot.jobs)
    if not chunks:
        return f"{snapshot.done}/{snapshot.total} completed"
    frames = len({f for job in snapshot.jobs for f in job.frames})
    return f"{snapshot.done}/{snapshot.total} chunks completed ({frames} frames)"


def stall_lines(jobs: Sequence[Any]) -> List[str]:
    """`gpu02 stalled (no progress for 40 s on our prompt); 1 frame re-queued elsewhere (var01 frame
    1003)`: one line per server a stall moved work away from (core/scheduler/stall_report.py)."""
    from nuke_comfyui.core.scheduler.stall_report import stalls_by_server

    lines = []
    for stalls in stalls_by_server(jobs):
        silent = f" (no progress for {stalls.longest_s} s on our prompt)" if stalls.longest_s is not None else ""
        count = len(stalls.jobs)
        if any(len(getattr(job, "frames", ()) or ()) > 1 for job in stalls.jobs):
            noun = "chunk"
        else:
            noun = "frame" if any(job.frame is not None for job in stalls.jobs) else "variation"
        lines.append(f"{stalls.server} stalled{silent}; {count} {noun}{'s' if count > 1 else ''} re-queued "
                     f"elsewhere ({which_jobs(stalls.jobs)})")
    return lines


def one_line(text: str) -> str:
    """A reason on one line (a validation error names one node per line): its lines joined by '; '."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def print_summary(snapshot: GroupSnapshot, *, as_json: bool, out: Optional[IO[str]] = None,
                  servers: Sequence[str] = (), base_seed: Optional[int] = None) -> None:
    """The final report: the `--json` object, or a few human lines with what is on disk where.

    `servers`: lines about servers that were down or unusable during the render (after the lines
    about servers that stalled on its jobs, read from the snapshot);
    `base_seed`: the seed drawn for this group (printed so `--base-seed` can repeat it).
    Hints are printed only when following them would do something.
    """
    out = out or sys.stdout
    servers = [*stall_lines(snapshot.jobs), *servers]
    if as_json:
        data = snapshot.to_json()
        if base_seed is not None:
            data["base_seed"] = base_seed
        if servers:
            data["server_problems"] = list(servers)
        json.dump(data, out, indent=2)
        out.write("\n")
        out.flush()
        return
    cancelled = sum(1 for job in snapshot.jobs if job.state is JobState.CANCELLED)
    extra = f", {cancelled} cancelled" if cancelled else ""
    lines = [f"group {snapshot.group_id} ({snapshot.label}): {snapshot.state.value}, "
             f"{counted(snapshot)}, {snapshot.failed} failed{extra}"]
    for seq in snapshot.sequences:
        done = seq.frames_done
        wanted = seq.last - seq.first + 1
        if seq.first == seq.last or len(done) == wanted:
            where = f"[{seq.first}-{seq.last}]" if seq.first != seq.last else ""
        else:
            where = f"{len(done)} of {wanted} frames on disk: {frame_ranges(done)}" if done else "nothing on disk"
        seed = f" seed {seq.seed}" if getattr(seq, "seeded", True) else ""
        lines.append(f"  {variation_name(seq.variation)}{seed}: {seq.pattern} {where}".rstrip())
    lines += [f"  {line}" for line in mixed_formats(snapshot.sequences)]
    for reason, jobs in failure_reasons(snapshot.jobs).items():
        count = f"{len(jobs)} job{'s' if len(jobs) > 1 else ''}"
        servers_hit = sorted({job.server for job in jobs if job.server})
        where = f" on {', '.join(servers_hit)}" if servers_hit else ""
        lines.append(f"  {jobs[0].state.value}, {count} ({which_jobs(jobs)}){where}: {reason}")
    lines += [f"  server {line}" for line in servers]
    if base_seed is not None:
        lines.append(f"  base seed {base_seed} was drawn for this render; --base-seed {base_seed} repeats its seeds")
    short = snapshot.group_id[:8]
    failed = sum(1 for job in snapshot.jobs if job.state in FAILED_STATES)
    if failed or (cancelled and snapshot.state is not GroupState.RUNNING):
        what = " and ".join(x for x in (f"{failed} failed" if failed else "",
                                        f"{cancelled} cancelled" if cancelled else "") if x)
        lines.append(f"  re-run the {what} job(s) with: nuke-comfyui retry {short}")
    out.write("\n".join(lines) + "\n")
    out.flush()
