"""The node's status text (host/report.py): what a finished render says on the node."""

from __future__ import annotations

from nuke_comfyui.core.scheduler import GroupState
from nuke_comfyui.core.scheduler.events import GroupView, OutputSequence
from nuke_comfyui.host.report import status_text


def view(sequences: list) -> GroupView:
    return GroupView(group_id="g" * 32, label="shot", state=GroupState.COMPLETED, output_dir="/o", done=8, failed=0,
                     cancelled=0, total=8, fraction=1.0, eta_s=None, sequences=sequences, failed_jobs=[], version=1)


def test_frames_that_came_back_in_another_format_are_said_under_the_status_line() -> None:
    exr = OutputSequence(variation=0, seed=1, output_node="9", pattern="/o/v.%04d.exr", first=1, last=8,
                         frames_done=[1, 3, 5, 7], servers=["gpu1"])
    png = OutputSequence(variation=0, seed=1, output_node="9", pattern="/o/v.%04d.png", first=1, last=8,
                         frames_done=[2, 4, 6, 8], servers=["gpu3"])
    assert status_text(view([exr, png])).splitlines() == [
        "completed: 8/8 done",
        "var01: frames 2,4,6,8 came back as PNG from gpu3, the rest as EXR (gpu3 lacked the planned saver when the "
        "job was sent); they load as a Read of their own"]
    assert status_text(view([exr])) == "completed: 8/8 done"
