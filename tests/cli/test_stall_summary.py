"""The render summary names the servers that stalled on its jobs (issue 28, item 5: "Report the server
as stalled"), beside issue 25's servers that were down: one line per server, how long the longest
silence was, how many frames (chunks, variations) went elsewhere and which. Read from the jobs'
attempt logs, so a resumed group reports the stalls journaled before the resume too.
"""

from __future__ import annotations

import io
import json
from typing import List, Optional, Sequence, Tuple

from nuke_comfyui.cli.summary import print_summary, stall_lines
from nuke_comfyui.core.scheduler import GroupSnapshot, GroupState, JobSnapshot, JobState
from nuke_comfyui.core.scheduler.events import AttemptSnapshot
from nuke_comfyui.core.scheduler.stall_report import STALLED, attempt_reason, silent_seconds, stalls_by_server


def attempt(n: int, server: str, outcome: str, error: Optional[str] = None) -> AttemptSnapshot:
    return AttemptSnapshot(n, server, f"p{n}", 0.0, 1.0, outcome, error)


def job(index: int, frame: Optional[int], attempts: Sequence[AttemptSnapshot], variation: int = 0,
        frames: Tuple[int, ...] = ()) -> JobSnapshot:
    return JobSnapshot(job_id=f"g.{index}", group_id="g", index=index, frame=frame, variation=variation, seed=7,
                       state=JobState.COMPLETED, server=attempts[-1].server, prompt_id="p", attempts=len(attempts),
                       progress=1.0, outputs=[], error=None, depends_on=[], attempt_log=list(attempts),
                       frames=frames or ((frame,) if frame is not None else ()))


def snapshot(jobs: List[JobSnapshot]) -> GroupSnapshot:
    return GroupSnapshot(group_id="c" * 32, label="shot", state=GroupState.COMPLETED, output_dir="/o", jobs=jobs,
                         done=len(jobs), failed=0, total=len(jobs), fraction=1.0, eta_s=0.0, sequences=[])


def test_the_seconds_are_read_back_from_the_journaled_reason() -> None:
    assert silent_seconds(attempt_reason("gpu02", 41.6)) == 42
    assert silent_seconds("gpu02 timed out after 300 s") is None and silent_seconds(None) is None


def test_one_line_per_stalled_server_with_the_longest_silence_and_the_frames_moved() -> None:
    jobs = [
        job(0, 1001, [attempt(1, "gpu01", "completed")]),
        job(1, 1002, [attempt(1, "gpu02", STALLED, attempt_reason("gpu02", 20)), attempt(2, "gpu01", "completed")]),
        job(2, 1003, [attempt(1, "gpu02", STALLED, attempt_reason("gpu02", 40)), attempt(2, "gpu03", "completed")]),
        job(3, 1004, [attempt(1, "gpu03", STALLED, attempt_reason("gpu03", 16)),
                      attempt(2, "gpu02", STALLED, attempt_reason("gpu02", 35)), attempt(3, "gpu01", "completed")]),
    ]
    assert [(s.server, len(s.jobs), s.longest_s) for s in stalls_by_server(jobs)] == [("gpu02", 3, 40),
                                                                                       ("gpu03", 1, 16)]
    assert stall_lines(jobs) == [
        "gpu02 stalled (no progress for 40 s on our prompt); 3 frames re-queued elsewhere (var01 frames 1002-1004)",
        "gpu03 stalled (no progress for 16 s on our prompt); 1 frame re-queued elsewhere (var01 frame 1004)",
    ]


def test_chunks_and_variations_are_counted_as_what_they_are() -> None:
    chunk = job(0, 1001, [attempt(1, "gpu02", STALLED, attempt_reason("gpu02", 30)), attempt(2, "gpu01", "done")],
                frames=(1001, 1002, 1003, 1004))
    still = job(1, None, [attempt(1, "gpu04", STALLED, attempt_reason("gpu04", 18)), attempt(2, "gpu01", "done")],
                variation=4)
    assert stall_lines([chunk, still]) == [
        "gpu02 stalled (no progress for 30 s on our prompt); 1 chunk re-queued elsewhere (var01 frames 1001-1004)",
        "gpu04 stalled (no progress for 18 s on our prompt); 1 variation re-queued elsewhere (var05)",
    ]


def test_the_summary_says_it_beside_the_servers_that_were_down_in_text_and_json() -> None:
    jobs = [job(0, 1001, [attempt(1, "gpu02", STALLED, attempt_reason("gpu02", 40)), attempt(2, "gpu01", "ok")])]
    down = ["gpu03 unreachable the whole render (connection refused)"]
    out = io.StringIO()
    print_summary(snapshot(jobs), as_json=False, out=out, servers=down)
    lines = out.getvalue().splitlines()
    assert lines[1:3] == [
        "  server gpu02 stalled (no progress for 40 s on our prompt); 1 frame re-queued elsewhere (var01 frame 1001)",
        "  server gpu03 unreachable the whole render (connection refused)",
    ]
    data = io.StringIO()
    print_summary(snapshot(jobs), as_json=True, out=data, servers=down)
    assert json.loads(data.getvalue())["server_problems"] == [line.strip()[len("server "):] for line in lines[1:3]]


def test_a_render_without_stalls_says_nothing_about_them() -> None:
    out = io.StringIO()
    print_summary(snapshot([job(0, 1001, [attempt(1, "gpu01", "completed")])]), as_json=False, out=out)
    assert "stalled" not in out.getvalue() and len(out.getvalue().splitlines()) == 1
