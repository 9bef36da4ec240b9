"""Everything about a prompt's results that is not HTTP: walking outputs, naming files safely.

Output keys vary by node (`images`, `gifs`, `video`, `audio`, `text`, ...) so every node and
every key is walked and only items that look like files are kept. Names come from a server we
do not control: `safe_join` makes sure nothing it sends (`..`, absolute paths, drive letters,
UNC, NUL) can put a file outside the folder we chose, and `write_atomically` never leaves a
half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, List, Optional

from nuke_comfyui.core.comfy.types import ExecutionFailure, OutputFile
from nuke_comfyui.core.errors import UnsafePathError
from nuke_comfyui.core.redact import redact
from nuke_comfyui.core.temp_files import create_beside

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {f"COM{i}" for i in range(1, 10)} | {
    f"LPT{i}" for i in range(1, 10)
}
_WINDOWS_FORBIDDEN = set('<>:"|?*')


def iter_output_files(outputs: Any) -> Iterator[OutputFile]:
    """Every file in a history/job `outputs` object: all nodes, all keys, items with a filename."""
    if not isinstance(outputs, dict):
        return
    for node_id, node_out in outputs.items():
        if not isinstance(node_out, dict):
            continue
        for key, items in node_out.items():
            if not isinstance(items, list):
                continue
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("filename"), str) and item["filename"]:
                    yield OutputFile(
                        node_id=str(node_id),
                        key=str(key),
                        filename=item["filename"],
                        subfolder=str(item.get("subfolder") or ""),
                        type=str(item.get("type") or "output"),
                    )


def output_files(outputs: Any) -> List[OutputFile]:
    return list(iter_output_files(outputs))


def failure_from_messages(messages: Any) -> Optional[ExecutionFailure]:
    """The ExecutionFailure in a history status's `messages` ([type, data] pairs), if any."""
    if not isinstance(messages, list):
        return None
    for message in messages:
        if not (isinstance(message, (list, tuple)) and len(message) >= 2 and isinstance(message[1], dict)):
            continue
        kind, data = message[0], message[1]
        if kind == "execution_error":
            return failure_from_error(data)
        if kind == "execution_interrupted":
            return failure_from_interrupt(data)
    return None


def failure_from_error(data: dict) -> ExecutionFailure:
    """An `execution_error` payload (WebSocket or history) as an ExecutionFailure."""
    return ExecutionFailure(
        node_id=_optional_str(data.get("node_id")),
        node_type=_optional_str(data.get("node_type")),
        exception_type=str(data.get("exception_type") or "error"),
        message=redact(str(data.get("exception_message") or "")).strip(),
        interrupted=False,
    )


def failure_from_interrupt(data: dict) -> ExecutionFailure:
    return ExecutionFailure(
        node_id=_optional_str(data.get("node_id")),
        node_type=_optional_str(data.get("node_type")),
        exception_type="interrupted",
        message="execution was interrupted",
        interrupted=True,
    )


def message_timestamp(messages: Any, kinds: Iterable[str]) -> Optional[int]:
    """The `timestamp` of the first status message whose type is one of `kinds`."""
    wanted = set(kinds)
    if not isinstance(messages, list):
        return None
    for message in messages:
        if isinstance(message, (list, tuple)) and len(message) >= 2 and message[0] in wanted:
            data = message[1]
            stamp = data.get("timestamp") if isinstance(data, dict) else None
            if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
                return int(stamp)
    return None


def _optional_str(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def safe_component(name: str, what: str = "name") -> str:
    """One path component that is safe on Windows and POSIX, or UnsafePathError.

    Rejected: empty, `.`/`..`, NUL and control characters, drive letters and anything with a
    Windows-forbidden character. Neutralised: trailing dots/spaces (Windows drops them) and
    reserved device names (`CON`, `NUL`, `COM1`, ... get a leading underscore).
    """
    if _CONTROL.search(name):
        raise UnsafePathError(f"server sent a {what} with control characters ({name!r}); "
                              "refusing to write it")
    if any(ch in _WINDOWS_FORBIDDEN for ch in name):
        raise UnsafePathError(f"server sent a {what} with a drive letter or forbidden character ({name!r}); "
                              "refusing to write it")
    cleaned = name.rstrip(" .")
    if cleaned in ("", ".", ".."):
        raise UnsafePathError(f"server sent an empty or relative {what} ({name!r}); refusing to write it")
    stem = cleaned.split(".", 1)[0].upper().rstrip(" ")
    if stem in _RESERVED:
        cleaned = "_" + cleaned
    return cleaned


def safe_join(root: Path, subfolder: str, filename: str) -> Path:
    """`root/subfolder/filename`, guaranteed to stay inside `root` whatever the server sent.

    Backslashes count as separators (a Windows server's subfolders), `.` parts are dropped;
    absolute paths, UNC paths, drive letters, `..` and control characters raise UnsafePathError.
    """
    root = Path(root)
    parts = safe_parts(subfolder, filename, root)
    target = root.joinpath(*parts)
    if not _inside(root, parts):
        raise UnsafePathError(f"{target} would lie outside {root}; refusing to write it")
    return target


def safe_parts(subfolder: str, filename: str, root: Any = "the destination") -> List[str]:
    """The checked components of a server's `subfolder` and `filename` (what safe_join joins).

    Only the names are looked at, not the disk: enough to tell whether a server sent a name we
    refuse, without the symlink walk that safe_join does for the path it will write.
    """
    parts: List[str] = []
    sub = str(subfolder or "")
    if sub.startswith(("/", "\\")):
        raise UnsafePathError(f"server sent an absolute subfolder ({sub!r}); refusing to write outside "
                              f"{root}")
    for part in re.split(r"[\\/]", sub):
        if part in ("", "."):
            continue
        if part == "..":
            raise UnsafePathError(f"server sent a subfolder that climbs out ({sub!r}); refusing to write it")
        parts.append(safe_component(part, "subfolder"))
    name = str(filename or "")
    if "/" in name or "\\" in name:
        raise UnsafePathError(f"server sent a filename with a path in it ({name!r}); refusing to write it")
    parts.append(safe_component(name, "filename"))
    return parts


def _inside(root: Path, parts: List[str]) -> bool:
    """Does root/parts, with every symlink resolved, stay inside root (and differ from it)?

    The parts are checked components (no separators, `.` or `..`), so only a symlink among them
    can lead out: resolve the root once, then look at each part with one lstat, resolving only
    the links, instead of resolving the whole path from `/` (this runs twice per result file).
    """
    real_root = os.path.realpath(root)
    current = real_root
    for part in parts:
        current = os.path.join(current, part)
        if os.path.islink(current):
            current = os.path.realpath(current)
    return os.path.commonpath([real_root, current]) == real_root and current != real_root


def capped(chunks: Iterable[bytes], max_bytes: int, too_large: Callable[[], Exception]) -> Iterator[bytes]:
    """`chunks` until more than `max_bytes` came, then `too_large()` is raised (nothing past the cap
    is written: write_atomically then drops its temporary file)."""
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > max_bytes:
            raise too_large()
        yield chunk


def write_atomically(target: Path, chunks: Iterable[bytes]) -> Path:
    """Stream `chunks` into a temp file beside `target`, then rename it over `target`.

    Readers (Nuke Read nodes, thumbnails) never see a half-written file, and a failed transfer
    leaves nothing behind under the final name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = create_beside(str(target.parent), ".nkc-", ".part")  # the umask applies (shared folders)
    try:
        with os.fdopen(handle, "wb") as stream:
            for chunk in chunks:
                if chunk:
                    stream.write(chunk)
        os.replace(temp_name, str(target))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return target
