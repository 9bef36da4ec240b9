"""What each command needs beyond a plain `pip install nuke-comfyui`, checked before it starts.

Why: the runtime dependencies are what Nuke's own Python needs (requests, pydantic, ...). The
simulator (aiohttp, Pillow, numpy, ...) and a Qt binding for the standalone panels are extras, so
`sim`, `demo`, `bench`, `monitor` and `screenshots` died with an ImportError traceback on a plain
install. Each of them now calls `require` first, which imports what the command will import and,
if that fails, says in one line which extra to install.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Sequence

from nuke_comfyui.core.errors import NukeComfyError

#: the extras and what they are for (the README's install section says the same)
EXTRAS = {
    "sim": "the simulator's packages",  # aiohttp, Pillow, numpy, OpenEXR, PyAV: the simulated ComfyUI cluster
    "pyside6": "a Qt binding",  # PySide6, for the standalone panels (inside Nuke, Nuke's own binding is used)
}
#: the modules whose import proves an extra is installed, by what needs them
SIM_MODULES = ("nuke_comfyui.sim.cluster",)
QT_MODULES = ("nuke_comfyui.ui.qt",)


class MissingRequirement(NukeComfyError):
    """A command needs an optional dependency (the message names the extra) or a display."""


def require(extras: Sequence[str], modules: Sequence[str]) -> None:
    """Import `modules` (what the command will import); raise MissingRequirement naming `extras` when one fails."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:  # ModuleNotFoundError, or Qt.py's "No Qt binding were found."
            missing = getattr(exc, "name", None)
            what = f"{missing} is not installed" if missing and not missing.startswith("nuke_comfyui") else str(exc)
            needs = " and ".join(EXTRAS[extra] for extra in extras)
            raise MissingRequirement(f"needs {needs} ({what.rstrip('.')}); install with: "
                                     f"pip install 'nuke-comfyui[{','.join(extras)}]'") from None


def require_sim() -> None:
    require(["sim"], SIM_MODULES)


def require_qt() -> None:
    require(["pyside6"], QT_MODULES)


def require_display() -> None:
    """On Linux, a window needs X11 or Wayland; say so instead of Qt's abort (core dump, exit 134)."""
    if not sys.platform.startswith("linux"):
        return
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith(("xcb", "wayland")):
        return  # offscreen, vnc, eglfs...: the user chose a platform that needs no display
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    raise MissingRequirement("opens a window, but there is no display (neither DISPLAY nor WAYLAND_DISPLAY is "
                             "set); run it on a desktop or over `ssh -X`, or use `nuke-comfyui status` in a terminal")
