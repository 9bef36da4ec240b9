"""Temporary files that become files other people read: results, staged frames.

Why not `tempfile.mkstemp`: it creates files with mode 0600 whatever the umask, so results in a
studio's shared output folder (and frames staged into a shared ComfyUI input folder, which the
server's own user must read) were private to whoever rendered them. Here the file is created
exclusively with mode 0666 and the kernel applies the umask, as every other tool's files get it;
the umask is never read or changed (changing it is process-wide and races other threads).
"""

from __future__ import annotations

import os
import uuid
from typing import Tuple

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)


def create_beside(directory: str, prefix: str, suffix: str = "") -> Tuple[int, str]:
    """(fd, path) of a new empty file in `directory`, opened for writing, mode 0666 & ~umask."""
    for _ in range(100):
        path = os.path.join(directory, f"{prefix}{uuid.uuid4().hex[:12]}{suffix}")
        try:
            return os.open(path, _FLAGS, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")
