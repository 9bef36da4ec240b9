"""The job journal: a small sqlite database that lets a crashed or restarted client re-attach.

Every job is written before its prompt is POSTed (with the client-chosen prompt_id) and again
after, so `resume` can ask each server what became of it: finished prompts are collected,
running ones re-attached, lost ones re-queued — nothing rendered twice, nothing lost.

One connection, guarded by a lock (any thread may call), WAL mode so readers such as
`nuke-comfyui groups` never block a render, and batched writes in one transaction each so a
10,000-job group costs a handful of commits, not 10,000.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

from nuke_comfyui.core import data_dir, journal_file
from nuke_comfyui.core.errors import JournalError
from nuke_comfyui.core.group_owners import check_owned
from nuke_comfyui.core.journal_schema import SCHEMA_VERSION, AttemptRow, GroupRow, JobRow, prepare

__all__ = ["SCHEMA_VERSION", "AttemptRow", "GroupRow", "JobRow", "Journal", "damaged_message", "default_journal_path"]


def default_journal_path() -> Path:
    """The per-user journal file (core/data_dir decides where; NUKE_COMFYUI_DATA_DIR overrides)."""
    return Path(data_dir.journal_path())


class Journal:
    """Thread-safe sqlite journal of job groups, jobs and attempts."""

    def __init__(self, path: Union[str, Path, None] = None) -> None:
        self.path = Path(path) if path is not None else default_journal_path()
        self._lock = threading.RLock()
        if journal_file.truncated(self.path):  # sqlite would take it for a new, empty journal: every group forgotten
            raise JournalError(
                f"the job journal {self.path} is empty (0 bytes): the groups it held are lost (was it truncated, or "
                f"the disk full?); move it aside (rename it to {self.path.name}.empty) to start a new journal")
        self._db: Optional[sqlite3.Connection] = None
        try:
            journal_file.create_if_missing(self.path, prepare)
            db = self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None,
                                            timeout=10.0)
            prepare(db)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:
            if self._db is not None:
                self._db.close()
                self._db = None
            if isinstance(exc, sqlite3.OperationalError):  # cannot open or write: permissions, a folder
                raise JournalError(f"cannot open the job journal {self.path}: {exc}. Check the folder is writable, "
                                   "or point NUKE_COMFYUI_DATA_DIR at one that is.") from exc
            raise JournalError(damaged_message(self.path, exc)) from exc
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(
                f"cannot open the job journal {self.path}: {exc}. Check the folder is writable, "
                "or point NUKE_COMFYUI_DATA_DIR at one that is."
            ) from exc

    # -- plumbing ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (later calls raise JournalError)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise JournalError(f"the job journal {self.path} is closed; open a new Journal to use it")
        return self._db

    def _transaction(self) -> _Transaction:
        return _Transaction(self)

    # -- writes --------------------------------------------------------------------------------

    def touch(self) -> None:
        """One small write (the meta table's `written` row): JournalError unless it can be written now.
        What a halted scheduler tries before it sends work again (scheduler/journal_halt.py)."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('written', ?)", (repr(time.time()),))

    def create_group(self, group: GroupRow, jobs: Sequence[JobRow]) -> None:
        """Write a new group and all its jobs in one transaction."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO groups(id, label, request, output_dir, created, updated, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (group.id, group.label, group.request, group.output_dir, group.created, group.updated,
                 group.state),
            )
            db.executemany(
                "INSERT INTO jobs(id, group_id, idx, frame, variation, seed, state, server, prompt_id, "
                "attempts, outputs, error, depends_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (j.id, j.group_id, j.index, j.frame, j.variation, j.seed, j.state, j.server, j.prompt_id,
                     j.attempts, json.dumps(j.outputs), j.error, json.dumps(j.depends_on))
                    for j in jobs
                ],
            )

    def write(
        self,
        jobs: Sequence[JobRow] = (),
        attempts: Sequence[AttemptRow] = (),
        group_states: Sequence[tuple] = (),
        owned: bool = False,
    ) -> None:
        """Update jobs, upsert attempts and set group states — all in one transaction.

        `group_states` holds `(group_id, state)` pairs. The scheduler batches everything that
        changed since its last write into one call. With `owned`, the write happens only while
        no other process owns one of its groups (GroupTakenOver otherwise, nothing written).
        """
        if not (jobs or attempts or group_states):
            return
        now = time.time()
        with self._transaction() as db:
            if owned:
                check_owned(db, {j.group_id for j in jobs} | {a.job_id.rsplit(".", 1)[0] for a in attempts}
                            | {g for g, _ in group_states})
            if jobs:
                db.executemany(
                    "UPDATE jobs SET state=?, server=?, prompt_id=?, attempts=?, outputs=?, error=? "
                    "WHERE id=?",
                    [
                        (j.state, j.server, j.prompt_id, j.attempts, json.dumps(j.outputs), j.error, j.id)
                        for j in jobs
                    ],
                )
            if attempts:
                db.executemany(
                    "INSERT OR REPLACE INTO attempts(job_id, n, server, prompt_id, started, ended, outcome, "
                    "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(a.job_id, a.n, a.server, a.prompt_id, a.started, a.ended, a.outcome, a.error)
                     for a in attempts],
                )
            if group_states:
                db.executemany(
                    "UPDATE groups SET state=?, updated=? WHERE id=?",
                    [(state, now, gid) for gid, state in group_states],
                )

    def update_jobs(self, jobs: Sequence[JobRow]) -> None:
        """Write the mutable columns of these jobs (one transaction)."""
        self.write(jobs=jobs)

    def record_attempts(self, attempts: Sequence[AttemptRow]) -> None:
        """Insert or update attempt rows (one transaction)."""
        self.write(attempts=attempts)

    def set_group_state(self, group_id: str, state: str) -> None:
        self.write(group_states=[(group_id, state)])

    def delete_group(self, group_id: str) -> None:
        """Forget a group, its jobs and attempts (output files are left alone)."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE group_id=?)", (group_id,)
            )
            db.execute("DELETE FROM jobs WHERE group_id=?", (group_id,))
            db.execute("DELETE FROM groups WHERE id=?", (group_id,))
            db.execute("DELETE FROM owners WHERE group_id=?", (group_id,))

    # -- reads ---------------------------------------------------------------------------------

    def groups(self, limit: Optional[int] = None) -> List[GroupRow]:
        """Every journaled group, newest first."""
        sql = (
            "SELECT id, label, request, output_dir, state, created, updated FROM groups "
            "ORDER BY created DESC"
        )
        params: tuple = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (int(limit),)
        return [GroupRow(*row) for row in self._query(sql, params)]

    def group(self, group_id: str) -> GroupRow:
        """One group by id or by a unique id prefix (people type the first 8 characters)."""
        if not group_id.strip():  # an empty prefix matches every group: never pick one at random
            raise JournalError("no job group given; run `nuke-comfyui groups` to list them and give an id (or its "
                               "first 8 characters)")
        rows = self._query(
            "SELECT id, label, request, output_dir, state, created, updated FROM groups "
            "WHERE id = ? OR id LIKE ? ORDER BY (id = ?) DESC LIMIT 3",
            (group_id, _like_prefix(group_id), group_id),
        )
        if not rows:
            raise JournalError(
                f"no job group {group_id!r} in the journal {self.path}; "
                "run `nuke-comfyui groups` to list them"
            )
        if rows[0][0] != group_id and len(rows) > 1:
            raise JournalError(
                f"job group prefix {group_id!r} matches several groups ({', '.join(r[0][:12] for r in rows)}"
                "...); type more characters of the id"
            )
        return GroupRow(*rows[0])

    def jobs(self, group_id: str) -> List[JobRow]:
        """The jobs of a group, in index order."""
        rows = self._query(
            "SELECT id, group_id, idx, frame, variation, seed, state, server, prompt_id, attempts, outputs, "
            "error, depends_on FROM jobs WHERE group_id=? ORDER BY idx",
            (group_id,),
        )
        return [
            JobRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], json.loads(r[10]), r[11],
                   json.loads(r[12]))
            for r in rows
        ]

    def attempts(self, job_id: str) -> List[AttemptRow]:
        """The attempts of one job, oldest first."""
        rows = self._query(
            "SELECT job_id, n, server, prompt_id, started, outcome, ended, error FROM attempts "
            "WHERE job_id=? ORDER BY n",
            (job_id,),
        )
        return [AttemptRow(*r) for r in rows]

    def attempts_of_group(self, group_id: str) -> List[AttemptRow]:
        """Every attempt of every job of a group (one query; used by resume and reports)."""
        rows = self._query(
            "SELECT a.job_id, a.n, a.server, a.prompt_id, a.started, a.outcome, a.ended, a.error "
            "FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.group_id=? ORDER BY j.idx, a.n",
            (group_id,),
        )
        return [AttemptRow(*r) for r in rows]

    def readable_groups(self, limit: Optional[int] = None) -> Tuple[List[GroupRow], Optional[str]]:
        """Like `groups`, but a damaged journal gives the groups read before the damage, and why it
        stopped (None when all were read): `nuke-comfyui groups` lists what it can."""
        sql = "SELECT id, label, request, output_dir, state, created, updated FROM groups ORDER BY created DESC"
        found: List[GroupRow] = []
        with self._lock:
            try:
                for row in self._conn().execute(sql + (" LIMIT ?" if limit is not None else ""),
                                                (int(limit),) if limit is not None else ()):
                    found.append(GroupRow(*row))
            except sqlite3.DatabaseError as exc:
                return found, damaged_message(self.path, exc)
        return found, None

    def _query(self, sql: str, params: tuple) -> List[tuple]:
        with self._lock:
            try:
                return list(self._conn().execute(sql, params).fetchall())
            except sqlite3.OperationalError as exc:
                raise JournalError(f"cannot read the job journal {self.path}: {exc}") from exc
            except sqlite3.DatabaseError as exc:  # "malformed", "not a database": the file is damaged
                raise JournalError(damaged_message(self.path, exc)) from exc


def damaged_message(path: Path, exc: BaseException) -> str:
    """What a damaged journal file is, where it is, and how to set it aside."""
    return (f"the job journal {path} is damaged ({exc}); move it aside (rename it to {path.name}.damaged) and run "
            "again: a new journal starts empty, and the groups in the damaged one can no longer be resumed")


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _abandon(journal: Journal) -> None:
    """Roll back whatever is open and release the lock (an exception interrupted BEGIN)."""
    try:
        with contextlib.suppress(sqlite3.Error, JournalError):
            _rollback(journal._conn())
    finally:
        journal._lock.release()


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (sqlite ends some failed ones by itself)."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


class _Transaction:
    """`with journal._transaction() as db:` — lock, BEGIN, COMMIT (or ROLLBACK and JournalError)."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def __enter__(self) -> sqlite3.Connection:
        self._journal._lock.acquire()
        try:
            db = self._journal._conn()
            if db.in_transaction:  # one left open by an exception between BEGIN and COMMIT: never nest
                db.execute("ROLLBACK")
            db.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, JournalError) as exc:
            self._journal._lock.release()
            if isinstance(exc, JournalError):
                raise
            raise JournalError(f"cannot write the job journal {self._journal.path}: {exc}") from exc
        except BaseException:  # KeyboardInterrupt, SystemExit: leave no open transaction and no held lock
            _abandon(self._journal)
            raise
        return db

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        db = self._journal._conn()
        try:
            if exc_type is None:
                db.execute("COMMIT")
            else:
                _rollback(db)  # a full disk (SQLITE_FULL) has already rolled back: keep its error
        except BaseException as err:
            _rollback(db)  # a COMMIT that failed, or was interrupted (Ctrl-C), leaves the transaction open
            if not isinstance(err, sqlite3.Error):
                raise
            raise JournalError(
                f"cannot write the job journal {self._journal.path}: {err}. Is the disk full or the file "
                "read-only?"
            ) from err
        finally:
            self._journal._lock.release()
        if isinstance(exc, sqlite3.Error):
            raise JournalError(f"cannot write the job journal {self._journal.path}: {exc}") from exc
