"""Reading the small text files a user points us at (workflows, settings, values), safely.

Why: `Path.read_text` trusts the path. A workflow path of `/dev/zero` grew the process to 6.3 GB
in 8 s, and a FIFO blocked for ever on open. Here only a regular file is read (the kind is
checked before opening, and again on the open descriptor, which is opened non-blocking so a FIFO
swapped in between cannot block either), and never more than `limit` bytes whatever the
reported size says. Text is UTF-8, with a byte-order mark allowed (Windows editors write one),
so "export it again" is never the answer to a BOM.
"""

from __future__ import annotations

import os
import stat
from typing import Union

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


class NotAFile(OSError):
    """The path exists but is not a regular file; `kind` says what it is ("a named pipe (FIFO)")."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"it is {kind}, not a file")
        self.kind = kind
        self.strerror = f"it is {kind}, not a file"


class TooLarge(ValueError):
    """The file holds more than the limit; `size` is what was seen (at least limit + 1)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"more than the limit ({size} bytes seen)")
        self.size = size


def kind_of(mode: int) -> str:
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def read_bytes(path: Union[str, os.PathLike[str]], limit: int) -> bytes:
    """At most `limit` bytes of a regular file; NotAFile, TooLarge, or the OSError of the open."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotAFile(kind_of(mode))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # swapped for something else since the stat above
            raise NotAFile(kind_of(mode))
        chunks = []
        seen = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - seen))
            if not chunk:
                break
            chunks.append(chunk)
            seen += len(chunk)
            if seen > limit:
                raise TooLarge(seen)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: Union[str, os.PathLike[str]], limit: int) -> str:
    """The file as UTF-8 text (a leading byte-order mark dropped); UnicodeDecodeError if not UTF-8."""
    return read_bytes(path, limit).decode("utf-8-sig")
