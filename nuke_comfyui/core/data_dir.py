"""Per-user folders for data the plugin keeps between sessions (the job journal)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping, Optional


def data_dir(environ: Optional[Mapping[str, str]] = None) -> Path:
    """NUKE_COMFYUI_DATA_DIR, else the platform's per-user data folder + nuke-comfyui."""
    env = os.environ if environ is None else environ
    if env.get("NUKE_COMFYUI_DATA_DIR", "").strip():
        return Path(env["NUKE_COMFYUI_DATA_DIR"].strip()).expanduser()
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nuke-comfyui"


def journal_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    return data_dir(environ) / "journal.sqlite"
