"""Per-user folders for data the plugin keeps between sessions (the job journal).

The job journal must survive Nuke restarts and must not land in a shared studio folder by
accident, so it lives in the platform's per-user data folder unless NUKE_COMFYUI_DATA_DIR
(documented in the top-level env.py) points somewhere else.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping, Optional

DATA_DIR_VARIABLE = "NUKE_COMFYUI_DATA_DIR"
APP_FOLDER = "nuke-comfyui"
JOURNAL_NAME = "journal.sqlite"


def data_dir(environ: Optional[Mapping[str, str]] = None, platform: Optional[str] = None) -> Path:
    """NUKE_COMFYUI_DATA_DIR, else the platform's per-user data folder + nuke-comfyui.

    Linux: $XDG_DATA_HOME (default ~/.local/share); Windows: %LOCALAPPDATA%
    (default ~/AppData/Local); macOS: ~/Library/Application Support. The folder is not created here.
    """
    env = os.environ if environ is None else environ
    override = env.get(DATA_DIR_VARIABLE, "").strip()
    if override:
        return Path(override).expanduser()
    system = platform or sys.platform
    home = _home(env)
    if system == "win32":
        base = env.get("LOCALAPPDATA", "").strip() or str(home / "AppData" / "Local")
    elif system == "darwin":
        base = str(home / "Library" / "Application Support")
    else:
        xdg = env.get("XDG_DATA_HOME", "").strip()
        base = xdg if xdg and os.path.isabs(xdg) else str(home / ".local" / "share")  # the XDG spec ignores relative
    return Path(base) / APP_FOLDER


def journal_path(environ: Optional[Mapping[str, str]] = None, platform: Optional[str] = None) -> Path:
    """The sqlite job journal inside the data folder."""
    return data_dir(environ, platform) / JOURNAL_NAME


def _home(env: Mapping[str, str]) -> Path:
    """The user's home, read from `env` first so tests and farm wrappers can redirect it."""
    for name in ("HOME", "USERPROFILE"):
        value = env.get(name, "").strip()
        if value:
            return Path(value)
    return Path.home()
