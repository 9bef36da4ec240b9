"""The journal keeps groups, jobs and attempts across processes, cheaply in bulk."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from nuke_comfyui.core.errors import JournalError
from nuke_comfyui.core.journal import AttemptRow, GroupRow, JobRow, Journal


def _group(journal: Journal, gid: str = "g" * 32, n: int = 3) -> list:
    jobs = [JobRow(f"{gid}.{i}", gid, i, 1001 + i, 0, 42 + i, "queued") for i in range(n)]
    journal.create_group(GroupRow(gid, "shot", '{"a": 1}', "/out", "queued"), jobs)
    return jobs


def test_round_trip_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        jobs = _group(journal)
        jobs[1].state, jobs[1].server, jobs[1].prompt_id, jobs[1].attempts = "completed", "a", "p1", 1
        jobs[1].outputs = ["/out/x.1002.png"]
        journal.write(
            jobs=[jobs[1]],
            attempts=[AttemptRow(jobs[1].id, 1, "a", "p1", 1.0, "completed", 2.0)],
            group_states=[("g" * 32, "running")],
        )
    with Journal(path) as again:
        rows = again.jobs("g" * 32)
        assert [r.index for r in rows] == [0, 1, 2]
        assert rows[1].state == "completed" and rows[1].outputs == ["/out/x.1002.png"]
        assert rows[1].prompt_id == "p1" and rows[0].prompt_id is None
        assert again.group("g" * 32).state == "running"
        assert again.attempts(jobs[1].id)[0].outcome == "completed"
        assert len(again.attempts_of_group("g" * 32)) == 1


def test_group_by_prefix_and_errors(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        _group(journal, "abc" + "0" * 29)
        _group(journal, "abd" + "0" * 29)
        assert journal.group("abc").id.startswith("abc")
        with pytest.raises(JournalError, match="several"):
            journal.group("ab")
        with pytest.raises(JournalError, match="nuke-comfyui groups"):
            journal.group("zzz")
        assert [g.id[:3] for g in journal.groups()] in (["abd", "abc"], ["abc", "abd"])


def test_closed_journal_raises(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.close()
    with pytest.raises(JournalError, match="closed"):
        journal.groups()


def test_unwritable_location_is_a_journal_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(JournalError, match="writable"):
        Journal(blocker / "sub" / "j.sqlite3")


def test_large_group_and_concurrent_writers(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        jobs = _group(journal, n=10_000)
        errors: list = []

        def bump(part: list) -> None:
            try:
                for j in part:
                    j.state = "completed"
                journal.update_jobs(part)
            except JournalError as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=bump, args=(jobs[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert {r.state for r in journal.jobs("g" * 32)} == {"completed"}


def test_duplicate_group_rolls_back(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        _group(journal)
        with pytest.raises(JournalError):
            _group(journal)
        assert len(journal.jobs("g" * 32)) == 3


def test_delete_group(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        jobs = _group(journal)
        journal.record_attempts([AttemptRow(jobs[0].id, 1, "a", "p", 1.0, "running")])
        journal.delete_group("g" * 32)
        assert journal.groups() == [] and journal.jobs("g" * 32) == []


class _InterruptAfter:
    """A connection stand-in that runs the real statement, then raises KeyboardInterrupt once, the
    way a Ctrl-C lands right after BEGIN or right after COMMIT in the main thread."""

    def __init__(self, db: object, statement: str) -> None:
        self._db, self._statement = db, statement

    def execute(self, sql: str, *args: object) -> object:
        result = self._db.execute(sql, *args)  # type: ignore[attr-defined]
        if sql == self._statement:
            self._statement = ""
            raise KeyboardInterrupt
        return result

    def __getattr__(self, name: str) -> object:
        return getattr(self._db, name)


@pytest.mark.parametrize("statement", ["BEGIN IMMEDIATE", "COMMIT"])
def test_an_interrupt_inside_a_write_leaves_no_open_transaction(tmp_path: Path, statement: str) -> None:
    """A second Ctrl-C inside the journal's transaction once left it open: every later write failed with
    "cannot start a transaction within a transaction" and the lock stayed held."""
    with Journal(tmp_path / "j.sqlite3") as journal:
        jobs = _group(journal)
        real = journal._db
        journal._db = _InterruptAfter(real, statement)  # type: ignore[assignment]
        jobs[0].state = "cancelled"
        with pytest.raises(KeyboardInterrupt):
            journal.write(jobs=[jobs[0]], group_states=[("g" * 32, "cancelled")])
        journal._db = real
        assert not real.in_transaction
        jobs[1].state = "cancelled"
        done = threading.Event()
        writer = threading.Thread(target=lambda: (journal.write(jobs=[jobs[1]]), done.set()))
        writer.start()  # another thread can take the lock: the interrupted write released it
        assert done.wait(5.0)
        assert journal.jobs("g" * 32)[1].state == "cancelled"
