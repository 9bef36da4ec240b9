"""A new journal is never visible at 0 bytes, so a 0-byte journal can be called truncated safely.

Found in CI: a second process opening the journal while the first one was creating it saw sqlite's
empty new file and refused it as "truncated" (tests/integration/test_cross_process.py).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import List

from nuke_comfyui.core import journal_file
from nuke_comfyui.core.journal import Journal


def test_the_journal_has_no_name_until_it_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "data" / "journal.sqlite3"
    seen_while_preparing = []

    def prepare(db: sqlite3.Connection) -> None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        seen_while_preparing.append(path.exists())

    journal_file.create_if_missing(path, prepare)
    assert seen_while_preparing == [False]
    assert path.stat().st_size > 0 and not journal_file.truncated(path)
    assert [p.name for p in path.parent.iterdir()] == ["journal.sqlite3"]  # no draft left behind


def _open_into(path: Path, errors: List[Exception]) -> None:
    try:
        Journal(path).close()
    except Exception as exc:  # any failure is what the test looks for
        errors.append(exc)


def test_openers_racing_a_new_journal_all_open_it(tmp_path: Path) -> None:
    for attempt in range(20):
        path = tmp_path / f"j{attempt}.sqlite3"
        errors: List[Exception] = []
        threads = [threading.Thread(target=_open_into, args=(path, errors)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        with Journal(path) as journal:
            assert journal.groups() == []


def test_an_existing_journal_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"")  # truncated: must stay 0 bytes for Journal to say so, never be remade
    journal_file.create_if_missing(path, lambda db: db.execute("CREATE TABLE t (x)"))
    assert path.stat().st_size == 0 and journal_file.truncated(path)
