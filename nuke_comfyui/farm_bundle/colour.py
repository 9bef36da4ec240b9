"""The script's OCIO config travelling with a farm job: the file, and the LUT folders it reads.

A task that reads or writes colour spaces must use the artist's config, not whatever the
worker has. The bundle carries the config path as a PATH job parameter (mapped per worker like
every path) and sets `OCIO` to it in a job environment, as deadline-cloud-for-nuke does
(`OCIOConfigPath` and its "Add OCIO Path to Environment Variable" environment). For job
attachments the config file and its search-path folders are inputs (deadline-cloud-for-nuke's
`assets.py` adds the same), so a bundle from a laptop carries its LUTs.

The search path is read from the config text, without PyOpenColorIO (a worker need not have
it): `search_path: luts`, `search_path: "luts:more"` or OCIO v2's list form. Entries with
context variables (`$SHOT`) cannot be resolved here and are left out.
"""

from __future__ import annotations

import os
import re
from typing import List, Optional

_KEY = re.compile(r"^search_path\s*:\s*(.*?)\s*$")
_ITEM = re.compile(r"^\s+-\s*(.+?)\s*$")
MAX_CONFIG_BYTES = 8 * 1024 * 1024


BUILTIN_PREFIX = "ocio://"  # OCIO 2.2+ built-in configs (ocio://default, ...): a name every OCIO knows, not a file


def is_builtin_config(config: str) -> bool:
    """True for an `ocio://` built-in config: it travels as its name, with nothing to attach or map."""
    return config.startswith(BUILTIN_PREFIX)


def ocio_config_from_environment(environ: Optional[dict] = None) -> Optional[str]:
    """`$OCIO` when it names a config (what Nuke and OCIO use before any script setting)."""
    value = (environ if environ is not None else os.environ).get("OCIO", "").strip()
    return value or None


def search_directories(config_path: str) -> List[str]:
    """Existing folders of the config's search path, absolute (relative ones are against the config's folder)."""
    try:
        if os.path.getsize(config_path) > MAX_CONFIG_BYTES:
            return []
        with open(config_path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    base = os.path.dirname(os.path.abspath(config_path))
    found: List[str] = []
    for entry in _entries(lines):
        if "$" in entry or not entry:
            continue
        folder = os.path.normpath(entry if os.path.isabs(entry) else os.path.join(base, entry))
        if os.path.isdir(folder) and folder not in found:
            found.append(folder)
    return found


def _entries(lines: List[str]) -> List[str]:
    for index, line in enumerate(lines):
        match = _KEY.match(line)
        if not match:
            continue
        value = _unquote(match.group(1))
        if value:
            return _split(value)
        items = []
        for following in lines[index + 1:]:
            item = _ITEM.match(following)
            if not item:
                break
            items.append(_unquote(item.group(1)))
        return items
    return []


def _unquote(text: str) -> str:
    text = text.split(" #", 1)[0].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _split(value: str) -> List[str]:
    """OCIO separates search-path entries with ':' (';' also on Windows); keep a drive letter whole."""
    pieces = [p for p in re.split(r"[:;]", value)]
    merged: List[str] = []
    for piece in pieces:
        if merged and len(merged[-1]) == 1 and merged[-1].isalpha() and piece.startswith(("/", "\\")):
            merged[-1] = f"{merged[-1]}:{piece}"
        else:
            merged.append(piece.strip())
    return [m for m in merged if m]
