"""One owner per journaled group across processes: claim, refuse, take over, heartbeat, release."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nuke_comfyui.core.group_owners import STALE_S, GroupOwnedError, GroupOwners, this_host
from nuke_comfyui.core.journal import GroupRow, Journal

GID = "f" * 32


def _journal(tmp_path: Path) -> Journal:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.create_group(GroupRow(GID, "shot", "{}", "/o", "running"), [])
    return journal


def _set_owner(journal: Journal, pid: int, host: str, beat: float) -> None:
    with journal._transaction() as db:
        db.execute("INSERT OR REPLACE INTO owners(group_id, pid, host, heartbeat, cancel_requested) "
                   "VALUES (?, ?, ?, ?, 0)", (GID, pid, host, beat))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_live_owner_is_refused_unless_forced(tmp_path: Path) -> None:
    with _journal(tmp_path) as journal:
        owners = GroupOwners(journal)
        _set_owner(journal, os.getppid(), this_host(), time.time())  # the test runner's parent: alive
        with pytest.raises(GroupOwnedError, match=rf"pid {os.getppid()} on .*--force"):
            owners.claim(GID)
        previous = owners.claim(GID, force=True)
        assert previous is not None and previous.pid == os.getppid()
        owner = owners.get(GID)
        assert owner is not None and owner.is_me


def test_a_dead_owner_is_taken_over_and_a_silent_one_is_dead(tmp_path: Path) -> None:
    with _journal(tmp_path) as journal:
        owners = GroupOwners(journal)
        _set_owner(journal, _dead_pid(), this_host(), time.time())
        assert not owners.get(GID).alive()  # type: ignore[union-attr]
        owners.claim(GID)  # no force needed
        _set_owner(journal, os.getppid(), "another-host", time.time() - STALE_S - 1)
        assert not owners.get(GID).alive()  # type: ignore[union-attr]  # no heartbeat for too long


def test_heartbeat_reports_cancel_requests_and_take_overs(tmp_path: Path) -> None:
    with _journal(tmp_path) as journal:
        owners = GroupOwners(journal)
        owners.claim(GID)
        assert owners.heartbeat([GID]) == set()
        owners.request_cancel(GID)
        assert owners.heartbeat([GID]) == {GID} and owners.cancel_requested(GID)
        owners.claim(GID)  # claiming again (resume/retry) clears the request
        assert not owners.cancel_requested(GID)
        _set_owner(journal, os.getppid(), this_host(), time.time())  # somebody forced it
        assert owners.heartbeat([GID]) == {GID}
        owners.release(GID)  # not ours any more: left alone
        assert owners.get(GID).pid == os.getppid()  # type: ignore[union-attr]
