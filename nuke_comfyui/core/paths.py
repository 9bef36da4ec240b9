"""Local <-> remote path mapping for shared storage (`U:/` here is `/home/user/ComfyUI/` on the server).

Paths are compared component by component: Windows drive letters and UNC shares compare
case-insensitively and accept either separator; POSIX paths compare exactly. The result is written
in the target side's style, so a Windows artist and a Linux server each get paths they can open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Protocol, Sequence, Tuple

from nuke_comfyui.core.errors import PathMappingError

_DRIVE = re.compile(r"^[A-Za-z]:$")


class _HasDirs(Protocol):
    """What `PathMapping.for_server` reads from a server (a ServerConfig, or a stand-in in tests)."""

    name: str
    dir_local: str
    dir_remote: str


@dataclass(frozen=True)
class _Root:
    """A mapping root split into its style and components."""

    windows: bool
    parts: Tuple[str, ...]  # first part is the anchor: "u:" / "\\\\server\\share" / "/"

    def key(self) -> Tuple[str, ...]:
        return tuple(p.casefold() for p in self.parts) if self.windows else self.parts


def _split(path: str) -> _Root:
    text = path.strip()
    if text.startswith(("\\\\", "//")):  # UNC: \\server\share\rest
        pieces = [p for p in re.split(r"[\\/]+", text[2:]) if p]
        if len(pieces) < 2:
            raise PathMappingError(f"UNC path {path!r} needs a server and a share, e.g. \\\\server\\share\\shots")
        return _Root(True, (f"\\\\{pieces[0]}\\{pieces[1]}", *_clean(pieces[2:])))
    if len(text) >= 2 and _DRIVE.match(text[:2]):
        pieces = [p for p in re.split(r"[\\/]+", text[2:]) if p]
        return _Root(True, (text[:2].upper(), *_clean(pieces)))
    if text.startswith("/"):
        return _Root(False, ("/", *_clean([p for p in text.split("/") if p])))
    raise PathMappingError(f"path {path!r} is not absolute; use a drive (U:/...), a UNC share (\\\\server\\share) "
                           "or a POSIX path (/mnt/...)")


def _clean(parts: Sequence[str]) -> Tuple[str, ...]:
    out: List[str] = []
    for part in parts:
        if part == ".":
            continue
        if part == "..":
            raise PathMappingError("paths with '..' are not mapped; give the folder's real path")
        out.append(part)
    return tuple(out)


def _join(root: _Root, rest: Sequence[str]) -> str:
    anchor, *base = root.parts
    parts = [*base, *rest]
    if root.windows:
        odd = [part for part in rest if "\\" in part]
        if odd:
            raise PathMappingError(f"{odd[0]!r} contains a backslash, which Windows reads as a folder separator; "
                                   "rename it before sending it across this mapping")
        sep = "/" if not anchor.startswith("\\\\") else "\\"
        return anchor + sep + sep.join(parts) if parts else anchor + sep
    return "/" + "/".join(parts)


def is_absolute(path: str) -> bool:
    """True for a drive path (U:/...), a UNC share (\\\\server\\share) or a POSIX path (/...)."""
    try:
        _split(path)
    except PathMappingError:
        return False
    return True


def normalise(path: str) -> str:
    """The canonical spelling of `path`: its side's separators, upper-case drive, no trailing slash.

    Windows paths keep their case (Windows does, it just compares without it).
    """
    root = _split(path)
    return _join(_Root(root.windows, root.parts[:1]), root.parts[1:])


@dataclass(frozen=True)
class PathMapping:
    """One server's shared-storage mapping: `local` (this machine's view) <-> `remote` (the server's)."""

    local: str
    remote: str

    def __post_init__(self) -> None:
        for side, value in (("local", self.local), ("remote", self.remote)):
            if not is_absolute(value):
                raise PathMappingError(f"the {side} folder {value!r} of a shared-storage mapping is not an absolute "
                                       "path; write a drive (U:/), a UNC share (\\\\server\\share) "
                                       "or a POSIX path (/mnt/comfy)")

    @classmethod
    def for_server(cls, server: _HasDirs) -> PathMapping:
        local, remote = server.dir_local, server.dir_remote
        if not (local and remote):
            raise PathMappingError(f"server {server.name!r} has no shared storage mapping; set dir_local "
                                   "(e.g. U:/) and dir_remote (e.g. /home/user/ComfyUI/) or use transfer 'upload'")
        return cls(local, remote)

    def contains_local(self, path: str) -> bool:
        """True when `path` lies in (or is) the local folder; relative or '..' paths never do."""
        return _contains(self.local, path)

    def contains_remote(self, path: str) -> bool:
        return _contains(self.remote, path)

    def to_remote(self, path: str) -> str:
        return self._translate(path, self.local, self.remote, "local")

    def to_local(self, path: str) -> str:
        return self._translate(path, self.remote, self.local, "remote")

    def _translate(self, path: str, source: str, target: str, side: str) -> str:
        rest = _under(_split(source), _split(path))
        if rest is None:
            raise PathMappingError(f"{path!r} is outside the {side} folder {source!r} of mapping "
                                   f"{self.local!r} <-> {self.remote!r}; put the file under it or add a mapping")
        return _join(_split(target), rest)

    def __str__(self) -> str:
        return f"{self.local} <-> {self.remote}"


def _contains(root: str, path: str) -> bool:
    try:
        return _under(_split(root), _split(path)) is not None
    except PathMappingError:
        return False


def _under(root: _Root, path: _Root) -> Optional[Tuple[str, ...]]:
    """Components of `path` below `root`, or None when it is not inside (whole components only)."""
    if root.windows != path.windows or len(path.parts) < len(root.parts):
        return None
    head = _Root(path.windows, path.parts[: len(root.parts)])
    return path.parts[len(root.parts):] if head.key() == root.key() else None


def map_path(path: str, mappings: Sequence[PathMapping], *, to_remote: bool = True) -> str:
    """Map with the longest matching root among several mappings."""
    best: Optional[Tuple[int, PathMapping]] = None
    for mapping in mappings:
        root = _split(mapping.local if to_remote else mapping.remote)
        if _under(root, _split(path)) is not None and (best is None or len(root.parts) > best[0]):
            best = (len(root.parts), mapping)
    if best is None:
        known = "; ".join(str(m) for m in mappings) or "none configured"
        raise PathMappingError(f"{path!r} is outside every shared-storage mapping ({known}); "
                               "move the file under one of them or add a mapping in the server settings")
    return best[1].to_remote(path) if to_remote else best[1].to_local(path)
