"""One live process per farm task: an OS lock in the group folder, held while the task renders.

Why: a farm task (`render --group-id G --task-frames F`) keeps a private, throw-away journal, so
the journal's owner rows cannot stop a second process given the same group and frames — a farm
manager re-running a task whose first run still lives, or a TD running the task's command by
hand. Two renders given the same `--group-id` at once rendered 200 prompts for 100 frames.

The group folder is what every task shares, so the lock lives there: one file per task (its frame
set named by a hash), locked with `fcntl.lockf` (`msvcrt.locking` on Windows). The OS drops the
lock when the process dies however it dies, so a stale lock never outlives its holder; on NFS,
lockf goes through the lock manager (NFSv4, or lockd for v3). A second process is refused at
once, naming the holder; tasks of other frame sets of the same group run side by side.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from pathlib import Path
from typing import Iterator, Optional

from nuke_comfyui.core.group_owners import GroupOwnedError


@contextlib.contextmanager
def task_lock(folder: Path, group_id: str, frames: Optional[str]) -> Iterator[None]:
    """Hold the task's lock for the block; GroupOwnedError at once when another process holds it."""
    key = hashlib.sha1((frames or "all").encode("utf-8")).hexdigest()[:12]
    path = Path(folder) / f".nuke_comfyui_task_{key}.lock"
    fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if not _try_lock(fd):
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
            what = f"frames {frames}" if frames else "all its frames"
            raise GroupOwnedError(f"group {group_id[:8]} ({what}) is already being rendered by {holder}; wait for "
                                  "it to end, or stop it before running this task again")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
