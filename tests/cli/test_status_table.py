"""`nuke-comfyui status`'s table and JSON say a server stalled, when the process's pool knows it.

The one-shot `status` command's own pool never saw a render, so its rows never say it; a pool that
ran renders (the scheduler's report_stall, core/scheduler/stall_watch.py) has the note on the
server's status, and the same table shows STATE `stalled` with the note in ERROR.
"""

from __future__ import annotations

import json

from nuke_comfyui.cli.status_cmd import format_table
from nuke_comfyui.core.pool import ServerState, ServerStatus
from nuke_comfyui.core.scheduler.stall_report import pool_note


def test_a_stalled_server_row_says_stalled_and_why() -> None:
    note = pool_note(40, at=0.0)
    rows = [ServerStatus(name="gpu01", url="http://10.0.0.1:8188", state=ServerState.ONLINE, checked_at=1.0),
            ServerStatus(name="gpu02", url="http://10.0.0.2:8188", state=ServerState.BUSY, queue_running=1,
                         checked_at=1.0, stalled=note)]
    lines = format_table(rows).splitlines()
    assert lines[1].split()[2] == "online" and lines[1].rstrip().endswith("-")  # no error: nothing said
    assert lines[2].split()[2] == "stalled" and lines[2].endswith(note)
    assert json.loads(json.dumps(rows[1].to_json()))["stalled"] == note
    assert rows[1].to_json()["state"] == "busy"  # the pool's state is unchanged: it answers
