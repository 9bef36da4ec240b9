"""The job journal's tables and rows: what `Journal` (journal.py) writes and reads back.

Kept apart from the database code so the rows can be read (resume, groups, the panels) without the
sqlite plumbing in view; journal.py re-exports the row classes.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from typing import List, Optional

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    request TEXT NOT NULL,
    output_dir TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    frame INTEGER,
    variation INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    state TEXT NOT NULL,
    server TEXT,
    prompt_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    outputs TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    depends_on TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS jobs_by_group ON jobs(group_id, idx);
CREATE TABLE IF NOT EXISTS attempts (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    server TEXT NOT NULL,
    prompt_id TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    outcome TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (job_id, n)
);
CREATE TABLE IF NOT EXISTS owners (
    group_id TEXT PRIMARY KEY,
    pid INTEGER,
    host TEXT,
    heartbeat REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass
class GroupRow:
    """One journaled job group: the request that made it, so it can be rebuilt on resume."""

    id: str
    label: str
    request: str  # RenderRequest JSON
    output_dir: str
    state: str
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)


@dataclass
class JobRow:
    """One journaled job: enough to find its prompt again on its server after a crash."""

    id: str
    group_id: str
    index: int
    frame: Optional[int]
    variation: int
    seed: int
    state: str
    server: Optional[str] = None
    prompt_id: Optional[str] = None
    attempts: int = 0
    outputs: List[str] = field(default_factory=list)
    error: Optional[str] = None
    depends_on: List[str] = field(default_factory=list)


@dataclass
class AttemptRow:
    """One try of a job on one server; `outcome` is running, completed, failed, timeout, lost, ..."""

    job_id: str
    n: int
    server: str
    prompt_id: str
    started: float
    outcome: str
    ended: Optional[float] = None
    error: Optional[str] = None


def prepare(db: sqlite3.Connection) -> None:
    """WAL mode (readers never block a render) and the schema; idempotent."""
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(_SCHEMA)
    db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
