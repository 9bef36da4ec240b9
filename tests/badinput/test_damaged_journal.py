"""A damaged or truncated journal (issue 28, messages).

Before: a corrupt journal said "check the folder is writable"; one truncated to 0 bytes was taken
for a new journal and silently forgot every group. Now the message says the file is damaged (or
empty), where it is and how to set it aside, and `groups` lists what it can still read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.journal import GroupRow, JobRow, Journal


def _journal(path: Path) -> str:
    """Three small groups, then one big one whose job rows fill the end of the file."""
    with Journal(path) as journal:
        for g in range(3):
            gid = f"{g:032x}"
            journal.create_group(GroupRow(gid, f"shot{g}", "{}", "/out", "completed", created=1000.0 + g),
                                 [JobRow(f"{gid}.{i}", gid, i, i, 0, i, "completed") for i in range(5)])
        big = "f" * 32
        journal.create_group(GroupRow(big, "big", "{}", "/out", "completed", created=2000.0),
                             [JobRow(f"{big}.{i}", big, i, i, 0, i, "completed", outputs=["/x" * 40])
                              for i in range(3000)])
    return big


def test_a_journal_with_damaged_pages_lists_what_it_can(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "journal.sqlite3"
    big = _journal(path)
    size = path.stat().st_size
    with open(path, "r+b") as handle:  # garbage over three pages near the end: the big group's job rows
        handle.seek(size - 20 * 4096)
        handle.write(bytes((i * 7 + 13) % 256 for i in range(3 * 4096)))
    assert main(["groups", "--json", "--journal", str(path)]) == 1
    out = capsys.readouterr()
    rows = {row["group_id"]: row for row in json.loads(out.out)}
    assert [rows[f"{g:032x}"]["completed"] for g in range(3)] == [5, 5, 5]  # still listed, with counts
    assert rows[big]["state"] == "damaged" and rows[big]["total"] is None
    assert out.err.strip() == (f"nuke-comfyui groups: the job journal {path} is damaged (database disk image is "
                               f"malformed); move it aside (rename it to {path.name}.damaged) and run again: a new "
                               "journal starts empty, and the groups in the damaged one can no longer be resumed")


def test_a_journal_that_is_not_a_database_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(os.urandom(8192))
    assert main(["groups", "--journal", str(path)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"nuke-comfyui groups: the job journal {path} is damaged (file is not a database); move it aside (rename "
        f"it to {path.name}.damaged) and run again: a new journal starts empty, and the groups in the damaged one "
        "can no longer be resumed")


def test_a_journal_truncated_to_nothing_is_not_a_new_one(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "journal.sqlite3"
    _journal(path)
    path.write_bytes(b"")  # truncated: every group it held is gone
    assert main(["groups", "--journal", str(path)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"nuke-comfyui groups: the job journal {path} is empty (0 bytes): the groups it held are lost (was it "
        f"truncated, or the disk full?); move it aside (rename it to {path.name}.empty) to start a new journal")
    assert path.stat().st_size == 0  # and it was left as it was, for whoever looks into it
