"""Getting a job's input frame to the server that will run it, by that server's transfer mode.

- `shared`: the server's ComfyUI root is mounted locally (`dir_local` ↔ `dir_remote`). Stock
  LoadImage resolves names inside the server's `input/` folder, so a frame already under
  `<dir_local>/input/` is referenced by its relative path; any other frame is copied there
  once (content-addressed, so reruns and other jobs reuse it).
- `upload`: POST /upload/image, deduplicated by content hash *per server*: each distinct file
  goes to each server at most once per process, and the name the server returns is what the
  prompt uses (ComfyUI renames clashing files to `name (1).png`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path, PurePosixPath
from typing import Any, Dict, Optional, Tuple

from nuke_comfyui.core.errors import PathMappingError
from nuke_comfyui.core.temp_files import create_beside

#: subfolder of the server's input/ folder where staged frames go
STAGING_SUBFOLDER = "nuke_comfyui"


class InputTransfer:
    """Stages input files on servers; safe to call from many worker threads at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hashes: Dict[Tuple[str, int, int], str] = {}
        self._staged: Dict[Tuple[str, str, str], str] = {}  # (server, mode, sha) -> LoadImage value
        self._key_locks: Dict[Tuple[str, str, str], threading.Lock] = {}

    def image_value(self, path: str, server: Any, client: Any, mode: Optional[str] = None) -> str:
        """The LoadImage `image` value under which `server` sees the local file `path`."""
        mode = mode or getattr(server, "transfer", "upload") or "upload"
        digest = self.content_hash(path)
        key = (server.name, mode, digest)
        with self._lock:
            known = self._staged.get(key)
            if known is not None:
                return known
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one upload per (server, file) even when many jobs start together
            with self._lock:
                known = self._staged.get(key)
            if known is not None:
                return known
            shared = mode == "shared"
            value = self._stage_shared(path, server, digest) if shared else self._upload(path, client, digest)
            with self._lock:
                self._staged[key] = value
            return value

    def content_hash(self, path: str) -> str:
        """sha256 of the file, cached by (path, mtime, size) so each frame is read once."""
        stat = os.stat(path)
        key = (os.path.abspath(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._hashes.get(key)
        if cached is not None:
            return cached
        sha = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                sha.update(chunk)
        digest = sha.hexdigest()
        with self._lock:
            self._hashes[key] = digest
        return digest

    @staticmethod
    def _staged_name(path: str, digest: str) -> str:
        return f"{digest[:16]}_{os.path.basename(path)}"

    def _upload(self, path: str, client: Any, digest: str) -> str:
        data = Path(path).read_bytes()
        uploaded = client.upload_image(
            data, self._staged_name(path, digest), subfolder=STAGING_SUBFOLDER, kind="input", overwrite=False
        )
        return str(uploaded.load_image_value)

    def _stage_shared(self, path: str, server: Any, digest: str) -> str:
        if not getattr(server, "dir_local", ""):
            raise PathMappingError(
                f"server {server.name} uses transfer 'shared' but has no dir_local; set dir_local/dir_remote "
                "in its settings or switch it to transfer 'upload'"
            )
        input_root = Path(server.dir_local) / "input"
        inside = _relative_inside(Path(path), input_root)
        if inside is not None:
            return inside
        target_dir = input_root / STAGING_SUBFOLDER
        target = target_dir / self._staged_name(path, digest)
        if not target.exists():
            if not input_root.is_dir():  # never build the share's tree on the local disk
                raise PathMappingError(
                    f"server {server.name}: dir_local {server.dir_local} has no input folder ({input_root}); "
                    "mount the share (or correct dir_local), or switch the server to transfer 'upload'")
            target_dir.mkdir(exist_ok=True)
            fd, tmp = create_beside(str(target_dir), ".staging-")  # the server's user must read it: umask
            os.close(fd)
            try:
                shutil.copyfile(path, tmp)
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
