"""Getting a job's input frame to the server that will run it, by that server's transfer mode.

- `shared`: the server's ComfyUI root is mounted locally (`dir_local` ↔ `dir_remote`). Stock
  LoadImage resolves names inside the server's `input/` folder, so a frame already under
  `<dir_local>/input/` is referenced by its relative path, never read; any other frame is copied
  there once (hashed while it is copied, then named by its content, so reruns and other jobs
  reuse it).
- `upload`: POST /upload/image, streamed from disk (core/comfy/upload_body.py: the kernel's
  sendfile on plain HTTP), so a plate is read once and never held in memory. The name the server
  returns is what the prompt uses (ComfyUI renames clashing files to `name (1).png`).

Deduplication, in both modes, is by file version, (absolute path, mtime, size), known from a
stat without reading a byte: each version goes to each server at most once per process, however
many jobs (variations, overlapping chunks) read it. An upload is named after its version
(`<sha256 of the version, 16 hex>_<file name>`), so the same version sent again by another
process lands on the same name, and ComfyUI, finding that name taken, compares the two files'
sha256 and keeps the one copy it has (server.py `compare_image_hash`; the simulator does the
same): uploads are deduplicated by content hash on the server, as ComfyUI does for every client.
The client hashes nothing on the way. A content hash could only spare an upload if it were known
before sending, which means reading a never-seen plate twice (once to hash, once to send); at
~1 GB/s on one core, hashing on the way was what bounded an upload, and decided nothing.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path, PurePosixPath
from typing import Any, Dict, Optional, Tuple

from nuke_comfyui.core.comfy.upload_body import CHUNK, PlateReadError, UploadFile
from nuke_comfyui.core.errors import ComfyError, NukeComfyError, PathMappingError
from nuke_comfyui.core.temp_files import create_beside

#: subfolder of the server's input/ folder where staged frames go
STAGING_SUBFOLDER = "nuke_comfyui"

_Version = Tuple[str, int, int]  # (absolute path, mtime_ns, size)
_Key = Tuple[str, str, _Version]  # (server name, transfer mode, file version)


class UploadTooLarge(ComfyError):
    """A frame file larger than the server accepts (its `max_upload_size`, 100 MiB by default)."""


class InputTransfer:
    """Stages input files on servers; safe to call from many worker threads at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._staged: Dict[_Key, str] = {}  # (server, mode, file version) -> LoadImage value
        self._key_locks: Dict[_Key, threading.Lock] = {}
        self._limits: Dict[str, Optional[int]] = {}  # server -> max_upload_size (None: unknown)

    def image_value(self, path: str, server: Any, client: Any, mode: Optional[str] = None) -> str:
        """The LoadImage `image` value under which `server` sees the local file `path`."""
        mode = mode or getattr(server, "transfer", "upload") or "upload"
        shared = mode == "shared"
        if shared:
            inside = _relative_inside(Path(path), self._input_root(server))
            if inside is not None:
                return inside  # already where the server reads: nothing to read or copy
        ident = self._identity(path)
        key = (str(server.name), mode, ident)
        with self._lock:
            known = self._staged.get(key)
            if known is not None:
                return known
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one upload per (server, file version) even when many jobs start together
            with self._lock:
                known = self._staged.get(key)
            if known is not None:
                return known
            if not shared:
                self._check_size(path, server, client, ident[2])
            value = self._stage_shared(path, server) if shared else self._upload(path, client, ident)
            with self._lock:
                self._staged[key] = value
            return value

    def _check_size(self, path: str, server: Any, client: Any, size: int) -> None:
        """Refuse, before sending, a file over the server's upload limit (ComfyUI answers 413)."""
        name = str(getattr(server, "name", "server"))
        if name not in self._limits:
            limit: Optional[int] = None
            try:
                answer = client.features() if hasattr(client, "features") else {}
                raw = answer.get("max_upload_size") if isinstance(answer, dict) else None
                limit = int(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0 else None
            except NukeComfyError:
                limit = None  # a server without /features: let it answer for itself
            self._limits[name] = limit
        limit = self._limits[name]
        if limit is not None and size > limit:
            raise UploadTooLarge(
                f"{os.path.basename(path)} is {size / 1e6:.1f} MB, over {name}'s upload limit of {limit / 1e6:.1f} MB "
                "(its max_upload_size); give that server shared storage (transfer 'shared'), send half EXR or "
                "8-bit PNG, or start its ComfyUI with a larger --max-upload-size")

    @staticmethod
    def _identity(path: str) -> _Version:
        """(absolute path, mtime, size): the same file version, without reading it."""
        try:
            stat = os.stat(path)
        except OSError as exc:  # gone since the render checked it: the plate's problem, not the server's
            raise PlateReadError(f"cannot read {path} ({exc.strerror or exc}); check that the file exists and "
                                 "this user may read it") from None
        return os.path.abspath(path), stat.st_mtime_ns, stat.st_size

    @staticmethod
    def _staged_name(path: str, tag: str) -> str:
        return f"{tag[:16]}_{os.path.basename(path)}"

    def _upload(self, path: str, client: Any, ident: _Version) -> str:
        """Stream the file to the server under a name unique to this file version; the LoadImage value."""
        tag = hashlib.sha256(repr(ident).encode("utf-8")).hexdigest()
        upload = UploadFile(path)
        if (upload.size, upload.mtime_ns) != (ident[2], ident[1]):
            raise PlateReadError(f"{path} changed just before it was sent (something is writing it); let that "
                                 "finish (or render again), then the frame is sent anew")
        uploaded = client.upload_image(
            upload, self._staged_name(path, tag), subfolder=STAGING_SUBFOLDER, kind="input", overwrite=False
        )
        return str(uploaded.load_image_value)

    @staticmethod
    def _input_root(server: Any) -> Path:
        if not getattr(server, "dir_local", ""):
            raise PathMappingError(
                f"server {server.name} uses transfer 'shared' but has no dir_local; set dir_local/dir_remote "
                "in its settings or switch it to transfer 'upload'"
            )
        return Path(server.dir_local) / "input"

    def _stage_shared(self, path: str, server: Any) -> str:
        """Copy the file into the share's input folder, hashing as it is copied, named by its content."""
        input_root = self._input_root(server)
        if not input_root.is_dir():  # never build the share's tree on the local disk
            raise PathMappingError(
                f"server {server.name}: dir_local {server.dir_local} has no input folder ({input_root}); "
                "mount the share (or correct dir_local), or switch the server to transfer 'upload'")
        target_dir = input_root / STAGING_SUBFOLDER
        target_dir.mkdir(exist_ok=True)
        fd, tmp = create_beside(str(target_dir), ".staging-")  # the server's user must read it: umask
        try:
            sha = hashlib.sha256()
            with open(path, "rb") as source, os.fdopen(fd, "wb") as sink:
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    sha.update(chunk)
                    sink.write(chunk)
            digest = sha.hexdigest()
            target = target_dir / self._staged_name(path, digest)
            if not target.exists():
                os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return str(PurePosixPath(STAGING_SUBFOLDER, target.name))


def _relative_inside(path: Path, root: Path) -> Optional[str]:
    """`path` relative to `root` in POSIX form, or None when it is not inside."""
    try:
        rel = path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    return PurePosixPath(*rel.parts).as_posix()
