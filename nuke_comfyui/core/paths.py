"""Local <-> remote path mapping for shared storage (`U:/` here is `/home/user/ComfyUI/` on the server).

Paths are compared component by component: Windows drive letters and UNC shares compare
case-insensitively and accept either separator; POSIX paths compare exactly. The result is written
in the target side's style, so a Windows artist and a Linux server each get paths they can open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, List, Sequence, Tuple

from nuke_comfyui.core.errors import PathMappingError

_DRIVE = re.compile(r"^[A-Za-z]:$")


@dataclass(frozen=True)
class _Root:
    """A mapping root split into its style and components."""

    windows: bool
    parts: Tuple[str, ...]  # first part is the anchor: "u:" / "\\\\server\\share" / "/"

    def key(self) -> Tuple[str, ...]:
        return tuple(p.lower() for p in self.parts) if self.windows else self.parts


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
        sep = "/" if not anchor.startswith("\\\\") else "\\"
        return anchor + sep + sep.join(parts) if parts else anchor + sep
    return "/" + "/".join(parts)


@dataclass(frozen=True)
class PathMapping:
    """One server's shared-storage mapping: `local` (this machine's view) <-> `remote` (the server's)."""

    local: str
    remote: str

    @classmethod
    def for_server(cls, server: Any) -> PathMapping:
        local, remote = getattr(server, "dir_local", ""), getattr(server, "dir_remote", "")
        if not (local and remote):
            raise PathMappingError(f"server {server.name!r} has no shared storage mapping; set dir_local "
                                   "(e.g. U:/) and dir_remote (e.g. /home/user/ComfyUI/) or use transfer 'upload'")
        return cls(local, remote)

    def contains_local(self, path: str) -> bool:
        return _under(_split(self.local), _split(path)) is not None

    def contains_remote(self, path: str) -> bool:
        return _under(_split(self.remote), _split(path)) is not None

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


def _under(root: _Root, path: _Root) -> Any:
    """Components of `path` below `root`, or None when it is not inside (whole components only)."""
    if root.windows != path.windows or len(path.parts) < len(root.parts):
        return None
    head = _Root(path.windows, path.parts[: len(root.parts)])
    return path.parts[len(root.parts):] if head.key() == root.key() else None


def map_path(path: str, mappings: Sequence[PathMapping], *, to_remote: bool = True) -> str:
    """Map with the longest matching root among several mappings."""
    best = None
    for mapping in mappings:
        root = _split(mapping.local if to_remote else mapping.remote)
        if _under(root, _split(path)) is not None and (best is None or len(root.parts) > best[0]):
            best = (len(root.parts), mapping)
    if best is None:
        known = "; ".join(str(m) for m in mappings) or "none configured"
        raise PathMappingError(f"{path!r} is outside every shared-storage mapping ({known}); "
                               "move the file under one of them or add a mapping in the server settings")
    return best[1].to_remote(path) if to_remote else best[1].to_local(path)
