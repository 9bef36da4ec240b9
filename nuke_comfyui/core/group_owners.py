"""Who renders a journaled group: one owner per group across processes (pid, host, heartbeat).

Two processes following the same group render frames twice, and a `cancel` from a second
shell is only real if the owner hears of it. So every group has at most one owner row in the
journal: the process that submitted or resumed it, refreshing a heartbeat every few seconds.
A second process refuses a live owner's group (unless forced) and takes over a dead owner's
group; `cancel` elsewhere sets `cancel_requested`, which the owner reads with its heartbeat.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Set

from nuke_comfyui.core.errors import JournalError

HEARTBEAT_S = 2.0  # how often an owner refreshes its heartbeat (and reads cancel requests)
STALE_S = 15.0  # an owner silent this long is dead


class GroupOwnedError(JournalError):
    """Another live process renders this group."""


class GroupTakenOver(GroupOwnedError):
    """A journal write found the group owned by another process (it was taken over with --force).

    Raised inside the write's transaction, so nothing of it is written, and the scheduler sends
    none of the prompts it would have recorded: a take-over is atomic (the new owner reads the
    journal after its claim, and the old one can write nothing after it).
    """

    def __init__(self, group_id: str, owner: str) -> None:
        super().__init__(f"group {group_id[:8]} was taken over by {owner}; it renders there now")
        self.group_id = group_id
        self.owner = owner


def check_owned(db: Any, group_ids: Iterable[str]) -> None:
    """Inside a journal transaction: GroupTakenOver for the first group another process owns."""
    me = (os.getpid(), this_host())
    for group_id in group_ids:
        row = db.execute("SELECT pid, host FROM owners WHERE group_id=?", (group_id,)).fetchone()
        if row is not None and row[0] is not None and (row[0], row[1]) != me:
            raise GroupTakenOver(group_id, f"pid {row[0]} on {row[1]}")


@dataclass(frozen=True)
class Owner:
    group_id: str
    pid: Optional[int]
    host: Optional[str]
    heartbeat: Optional[float]
    cancel_requested: bool

    def alive(self, now: Optional[float] = None) -> bool:
        """True when the owning process still runs: a fresh heartbeat, and on this host a live pid."""
        if self.pid is None or self.heartbeat is None:
            return False
        if (time.time() if now is None else now) - self.heartbeat > STALE_S:
            return False
        if self.host == this_host():
            return pid_alive(self.pid)
        return True

    @property
    def is_me(self) -> bool:
        return self.pid == os.getpid() and self.host == this_host()

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def this_host() -> str:
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (signal 0 checks without touching it)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to somebody else
        return True
    except OSError:
        return False
    return True


class GroupOwners:
    """Owner rows of the journal's groups (thread-safe through the journal's own lock)."""

    def __init__(self, journal: object) -> None:
        self.journal = journal

    def get(self, group_id: str) -> Optional[Owner]:
        rows = self.journal._query(  # type: ignore[attr-defined]
            "SELECT group_id, pid, host, heartbeat, cancel_requested FROM owners WHERE group_id=?", (group_id,))
        if not rows:
            return None
        gid, pid, host, beat, cancel = rows[0]
        return Owner(gid, pid, host, beat, bool(cancel))

    def claim(self, group_id: str, *, force: bool = False) -> Optional[Owner]:
        """Make this process the group's owner; returns the dead (or forced-out) previous owner.

        Raises GroupOwnedError while another live process owns the group (unless `force`).
        Claiming clears an earlier cancel request: the caller means to render the group now.
        """
        with self.journal._transaction() as db:  # type: ignore[attr-defined]
            row = db.execute("SELECT group_id, pid, host, heartbeat, cancel_requested FROM owners "
                             "WHERE group_id=?", (group_id,)).fetchone()
            previous = Owner(row[0], row[1], row[2], row[3], bool(row[4])) if row else None
            if previous is not None and not previous.is_me and previous.alive() and not force:
                raise GroupOwnedError(
                    f"group {group_id[:8]} is being rendered by {previous.describe()}; follow it there, "
                    "or use --force to take it over once that process has died")
            db.execute("INSERT OR REPLACE INTO owners(group_id, pid, host, heartbeat, cancel_requested) "
                       "VALUES (?, ?, ?, ?, 0)", (group_id, os.getpid(), this_host(), time.time()))
        if previous is None or previous.is_me or previous.pid is None:
            return None
        return previous

    def heartbeat(self, group_ids: Iterable[str]) -> Set[str]:
        """Refresh our heartbeat on these groups; returns those somebody asked to cancel.

        A group another process took over (`--force`) is not refreshed and is returned too:
        this process must stop rendering it.
        """
        ids = list(group_ids)
        if not ids:
            return set()
        pid, host, now = os.getpid(), this_host(), time.time()
        stop: Set[str] = set()
        with self.journal._transaction() as db:  # type: ignore[attr-defined]
            for gid in ids:
                row = db.execute("SELECT pid, host, cancel_requested FROM owners WHERE group_id=?",
                                 (gid,)).fetchone()
                if row is None or (row[0] is not None and (row[0] != pid or row[1] != host)):
                    stop.add(gid)  # somebody else took it over
                    continue
                if row[2]:
                    stop.add(gid)
                db.execute("UPDATE owners SET pid=?, host=?, heartbeat=? WHERE group_id=?", (pid, host, now, gid))
        return stop

    def cancel_requested(self, group_id: str) -> bool:
        owner = self.get(group_id)
        return bool(owner and owner.cancel_requested)

    def request_cancel(self, group_id: str) -> Optional[Owner]:
        """Ask the group's owner to cancel it; returns the owner (None when there is none)."""
        with self.journal._transaction() as db:  # type: ignore[attr-defined]
            # INSERT OR IGNORE + UPDATE rather than an UPSERT: old sqlite builds (Nuke's Python) lack it.
            db.execute("INSERT OR IGNORE INTO owners(group_id, cancel_requested) VALUES (?, 1)", (group_id,))
            db.execute("UPDATE owners SET cancel_requested=1 WHERE group_id=?", (group_id,))
        return self.get(group_id)

    def release(self, group_id: str) -> None:
        """This process stops owning the group (it settled, or the process stops)."""
        with self.journal._transaction() as db:  # type: ignore[attr-defined]
            db.execute("UPDATE owners SET pid=NULL, host=NULL, heartbeat=NULL WHERE group_id=? AND pid=? "
                       "AND host=?", (group_id, os.getpid(), this_host()))
