"""What the user sees: seed progress lines, summaries that say what is on disk, true hints, log lines.

Real behaviour reproduced: progress lines for a seed group read `frame - v03` (now `var03 seed N`); a cancelled
render's summary listed a sequence `[1-16]` when 2 frames existed and suggested `retry` for
"0 failed job(s)"; log warnings were written into the progress bar's line.
"""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from typing import List, Optional

from nuke_comfyui.cli.progress import ProgressPrinter, _ClearBarFilter, frame_ranges, print_summary
from nuke_comfyui.core.scheduler import (
    GroupProgress,
    GroupSnapshot,
    GroupState,
    GroupUpdated,
    JobSnapshot,
    JobState,
    JobUpdated,
    OutputSequence,
)


def _job(state: JobState, frame: Optional[int], variation: int = 0, error: Optional[str] = None) -> JobSnapshot:
    return JobSnapshot(job_id="g.0", group_id="g", index=0, frame=frame, variation=variation, seed=77,
                       state=state, server="sim0", prompt_id="p", attempts=1, progress=1.0, outputs=[],
                       error=error, depends_on=[])


def _snap(state: GroupState, jobs: List[JobSnapshot], sequences: List[OutputSequence]) -> GroupSnapshot:
    done = sum(1 for j in jobs if j.state is JobState.COMPLETED)
    return GroupSnapshot(group_id="c" * 32, label="shot", state=state, output_dir="/o", jobs=jobs, done=done,
                         failed=sum(1 for j in jobs if j.state is JobState.FAILED), total=len(jobs),
                         fraction=1.0, eta_s=0.0, sequences=sequences)


def test_seed_variation_lines_name_the_variation_and_seed() -> None:
    out = io.StringIO()
    ProgressPrinter("g", stream=out, tty=False)(JobUpdated(_job(JobState.COMPLETED, None, variation=2)))
    assert out.getvalue() == "var03 seed 77 completed on sim0\n"


def test_a_still_of_a_seedless_workflow_names_no_seed() -> None:
    """An upscale or a depth pass has no seed input: its still's line said "seed 77" (nobody's seed)."""
    out = io.StringIO()
    ProgressPrinter("g", stream=out, tty=False)(JobUpdated(replace(_job(JobState.COMPLETED, None), seeded=False)))
    assert out.getvalue() == "var01 completed on sim0\n"


def test_cancelled_summary_says_what_is_on_disk_and_hints_only_what_helps() -> None:
    jobs = [_job(JobState.COMPLETED, 1), _job(JobState.COMPLETED, 2)] + [
        _job(JobState.CANCELLED, f) for f in range(3, 17)]
    seq = OutputSequence(variation=0, seed=77, output_node="9", pattern="/o/shot_var01.%04d.png", first=1, last=16,
                         frames_done=[1, 2], servers=["sim0"])
    out = io.StringIO()
    print_summary(_snap(GroupState.CANCELLED, jobs, [seq]), as_json=False, out=out)
    text = out.getvalue()
    assert "2 of 16 frames on disk: 1-2" in text and "[1-16]" not in text
    assert "14 cancelled" in text
    assert "re-run the 14 cancelled job(s) with: nuke-comfyui retry cccccccc" in text

    complete = io.StringIO()
    full = OutputSequence(variation=0, seed=77, output_node="9", pattern="/o/x.%04d.png", first=1, last=2,
                          frames_done=[1, 2], servers=["sim0"])
    print_summary(_snap(GroupState.COMPLETED, jobs[:2], [full]), as_json=False, out=complete)
    assert "retry" not in complete.getvalue() and "[1-2]" in complete.getvalue()


def test_frame_ranges() -> None:
    assert frame_ranges([5, 1, 2, 3, 7, 8]) == "1-3,5,7-8"
    assert frame_ranges([4]) == "4" and frame_ranges([]) == ""


def test_a_log_line_never_lands_inside_the_progress_bar() -> None:
    stream = io.StringIO()
    bar = ProgressPrinter("g", stream=stream, tty=True)
    handler = logging.StreamHandler(stream)
    handler.addFilter(_ClearBarFilter(bar))
    logger = logging.getLogger("test.progress.bar")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        bar(GroupUpdated(GroupProgress("g", "shot", GroupState.RUNNING, 1, 0, 4, 0.25, 9.0)))
        logger.warning("lost server c2: connection refused")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().split("\n")
    warning = next(line for line in lines if "lost server" in line)
    assert warning.rsplit("\r", 1)[-1] == "lost server c2: connection refused"  # the bar was wiped first
    assert "[" not in warning.rsplit("\r", 1)[-1]


def test_the_same_reason_from_two_servers_is_said_once() -> None:
    """A validation error names the server inside its text; grouped, it is one reason on two servers."""
    def failed(frame: int, server: str) -> JobSnapshot:
        return JobSnapshot(job_id=f"g.{frame}", group_id="g", index=frame, frame=frame, variation=0, seed=77,
                           state=JobState.FAILED, server=server, prompt_id="p", attempts=1, progress=0.0,
                           outputs=[], depends_on=[],
                           error=f"ComfyUI rejected the workflow: {server}: Prompt outputs failed validation\n"
                                 "node 4 (CheckpointLoaderSimple) input ckpt_name: 'x' not in []")

    jobs = [failed(1001, "c033"), failed(1002, "c082"), failed(1003, "c082")]
    out = io.StringIO()
    print_summary(_snap(GroupState.FAILED, jobs, []), as_json=False, out=out)
    reasons = [line for line in out.getvalue().splitlines() if line.startswith("  failed, ")]
    assert reasons == ["  failed, 3 jobs (var01 frames 1001-1003) on c033, c082: ComfyUI rejected the workflow: "
                       "Prompt outputs failed validation; node 4 (CheckpointLoaderSimple) input ckpt_name: 'x' "
                       "not in []"]
    lines = io.StringIO()
    printer = ProgressPrinter("g", stream=lines, tty=False)
    for job in jobs:
        printer(JobUpdated(job))
    text = lines.getvalue().splitlines()
    assert text[0].startswith("frame 1001 var01 failed on c033: ComfyUI rejected the workflow: c033: ")
    assert text[1:] == ["frame 1002 var01 failed on c082 (same reason as frame 1001 var01)",
                        "frame 1003 var01 failed on c082 (same reason as frame 1001 var01)"]


def test_the_bar_never_says_100_percent_before_every_job_settled() -> None:
    """Seen: `10/12 100.0%` (two jobs' samplers at 100 % while they still decoded and saved)."""
    from nuke_comfyui.cli.progress import shown_fraction

    running = GroupProgress("g", "shot", GroupState.RUNNING, 10, 0, 12, 1.0, 0.0)
    assert shown_fraction(running) < 1.0
    stream = io.StringIO()
    bar = ProgressPrinter("g", stream=stream, tty=True)
    bar(GroupUpdated(running))
    assert "10/12" in stream.getvalue() and "100.0%" not in stream.getvalue()
    bar.finish([GroupProgress("g", "shot", GroupState.COMPLETED, 12, 0, 12, 1.0, 0.0)])
    assert stream.getvalue().rstrip().split("\r")[-1].startswith("[" + "#" * 30 + "] 12/12 100.0%")
    cancelled = GroupProgress("g", "shot", GroupState.CANCELLED, 2, 0, 16, 1.0, 0.0)
    assert shown_fraction(cancelled) == 2 / 16  # a settled group's percentage is its count's
