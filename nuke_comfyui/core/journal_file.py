"""The journal's file on disk: made whole before it has its name, and told apart from a truncated one.

sqlite creates a database file empty and writes its header with the first write, so a second
process (a `groups`, a `resume`, a farm task) that opens the journal in that instant would see
0 bytes: exactly what a truncated journal looks like. A new journal is therefore built under a
private name and linked into place complete; from then on a journal of 0 bytes can only be one
that lost its content, and saying so is safe.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Callable


def create_if_missing(path: Path, prepare: Callable[[sqlite3.Connection], None]) -> None:
    """Make the journal at `path` with `prepare` (mode, schema) unless it exists; a race with another
    process making it too is harmless (the first one's file stands)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"{path.name}.new-{os.getpid()}-{threading.get_ident()}")
    try:
        db = sqlite3.connect(str(draft), isolation_level=None)
        try:
            prepare(db)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
        finally:
            db.close()
        try:
            os.link(draft, path)  # atomic, and never replaces a journal another process just made
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: replace only while the name is still free
            if not path.exists():
                os.replace(draft, path)
    finally:
        for leftover in (draft, draft.with_name(draft.name + "-wal"), draft.with_name(draft.name + "-shm")):
            with contextlib.suppress(OSError):
                leftover.unlink()


def truncated(path: Path) -> bool:
    """An existing journal of 0 bytes with no write-ahead log to recover from (a journal made here
    always holds its header: 4 kB at least)."""
    try:
        if not path.is_file() or path.stat().st_size:
            return False
        wal = path.with_name(path.name + "-wal")
        return not (wal.is_file() and wal.stat().st_size)
    except OSError:
        return False
