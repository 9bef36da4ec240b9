"""Where the plugin keeps the runtime dependencies for one Nuke Python: `<plugin>/deps/py<X.Y>-<platform>`.

Two places need the same answer and must never diverge: `install-deps` (the command line, which
fills the folder for Nuke's interpreter) and init.py (host/startup, which adds the folder of the
running interpreter to sys.path). The rule lives here, in core, so the host never imports the
command line. Standard library only: init.py runs it in every Nuke session, farm renders included.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import Union


def platform_key(sys_platform: str, machine: str) -> str:
    """The platform half of the deps folder name: 'linux-x86_64', 'windows-amd64', 'macos-arm64'."""
    if sys_platform.startswith("linux"):
        os_name = "linux"
    elif sys_platform in ("win32", "cygwin"):
        os_name = "windows"
    elif sys_platform == "darwin":
        os_name = "macos"
    else:
        os_name = sys_platform
    return f"{os_name}-{machine.lower() or 'unknown'}"


def deps_folder_name(major: int, minor: int, sys_platform: str, machine: str) -> str:
    """'py3.10-linux-x86_64': one folder per interpreter version and platform, side by side."""
    return f"py{major}.{minor}-{platform_key(sys_platform, machine)}"


def current_deps_folder(plugin_root: Union[str, Path]) -> Path:
    """The deps folder for the interpreter running this code (what init.py adds to sys.path)."""
    name = deps_folder_name(sys.version_info[0], sys.version_info[1], sys.platform, platform.machine())
    return Path(plugin_root) / "deps" / name
