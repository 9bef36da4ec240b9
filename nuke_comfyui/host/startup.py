"""What init.py does in every Nuke session (GUI, `nuke -t`, render farm): paths and checks, no UI.

Every step is guarded on its own and only logs: a missing dependency must leave Nuke starting
normally, with a log line that says exactly what to run. It must also cost almost nothing,
since every farm render of every script pays it: pydantic, requests and the server settings are
not touched here (the settings are loaded, and a broken file reported, on the first render or
when a panel opens), the dependency check only *locates* modules, and the deps-folder code is
imported only when the plugin has a deps/ folder. `nuke-comfyui bench --init-import` measures it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import TYPE_CHECKING, Dict, List, Optional

import nuke

if TYPE_CHECKING:
    import logging

# import name -> distribution, of the runtime dependencies init.py checks: rendering needs these ...
RUNTIME_MODULES = {
    "requests": "requests",
    "websocket": "websocket-client",
    "pydantic": "pydantic",
}
# ... and the panels (GUI sessions only) need Qt.py; a farm render never imports it.
PANEL_MODULES = {"Qt": "Qt.py"}


def _log() -> logging.Logger:
    """The plugin's logger, importing logging only when there is something to say."""
    import logging

    log = logging.getLogger("nuke_comfyui")
    ensure_log_handler(log)
    return log


def ensure_log_handler(log: logging.Logger) -> None:
    """Make our warnings visible in Nuke's terminal even when nobody configured logging."""
    import logging

    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def add_dependency_path(plugin_root: str) -> Optional[str]:
    """Append <plugin>/deps/py<X.Y>-<platform> to sys.path when it exists; returns it.

    Appended, not put first: a studio's NUKE_PATH often holds other packages that bring their own
    requests, urllib3 or typing-extensions, and Nuke ships some modules itself. Put first, our copies
    would replace theirs for every tool in the session; appended, whatever is already importable
    wins and our folder only fills in what is missing. The one package whose version matters to us,
    pydantic (2.x), is checked when the farm starts (host.session), naming the copy in the way.
    """
    deps = os.path.join(plugin_root, "deps")
    prefix = f"py{sys.version_info[0]}.{sys.version_info[1]}-"
    if not os.path.isdir(deps) or not any(name.startswith(prefix) for name in os.listdir(deps)):
        return None  # nothing installed for this Python: skip importing the deps-folder code
    from nuke_comfyui.core.deps_folder import current_deps_folder

    folder = str(current_deps_folder(plugin_root))
    if not os.path.isdir(folder):
        return None
    if folder not in sys.path:
        sys.path.append(folder)
    return folder


def add_plugin_paths(plugin_root: str) -> None:
    """gizmos/ (the ComfyRender node) and icons/ on Nuke's plugin path."""
    for sub in ("gizmos", "icons"):
        folder = os.path.join(plugin_root, sub)
        if os.path.isdir(folder):
            nuke.pluginAddPath(folder)


def missing_modules(modules: Optional[Dict[str, str]] = None) -> List[str]:
    """Distributions whose module cannot be imported by this interpreter (default: the render's)."""
    wanted = RUNTIME_MODULES if modules is None else modules
    return [dist for module, dist in wanted.items() if importlib.util.find_spec(module) is None]


def _nuke_folder() -> str:
    return os.path.dirname(getattr(nuke, "EXE_PATH", "") or "") or "/path/to/Nuke15.1v3"


def check_dependencies(plugin_root: str) -> bool:
    """Log what is missing and the one command that installs it; True when all is there.

    Qt.py is checked only with a GUI: a farm render (nuke -t) never opens a panel, so a farm
    without Qt.py logs nothing about it.
    """
    missing = missing_modules()
    panels = missing_modules(PANEL_MODULES) if getattr(nuke, "GUI", False) else []
    if not missing and not panels:
        return True  # the usual start-up: nothing more to import or say
    from nuke_comfyui.core.deps_folder import current_deps_folder

    fix = (f"Fix: run: nuke-comfyui install-deps --nuke {_nuke_folder()}  "
           f"(installs into {current_deps_folder(plugin_root)})")
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if missing:
        _log().warning("nuke-comfyui: Python packages missing in Nuke's Python %s: %s. Rendering is disabled. %s",
                       python, ", ".join(missing + panels), fix)
    elif panels:
        _log().warning("nuke-comfyui: Python packages missing in Nuke's Python %s: %s. The ComfyUI panels are "
                       "disabled (rendering works). %s", python, ", ".join(panels), fix)
    return not missing and not panels


def _register_arrival() -> None:
    """onCreate / onScriptLoad: a Comfy node opened, pasted or imported gets its arrows (host.arrival,
    imported by the thin hooks only when such a node arrives)."""
    from nuke_comfyui.host import arrival_hooks

    arrival_hooks.register()


def run_init(plugin_root: str) -> None:
    """init.py's body. Each step is independent; none raises."""
    steps = [
        ("dependency folder", lambda: add_dependency_path(plugin_root)),
        ("gizmo and icon paths", lambda: add_plugin_paths(plugin_root)),
        ("hooks for arriving nodes", _register_arrival),
    ]
    for what, step in steps:
        try:
            step()
        except Exception:  # noqa: BLE001 - init.py must never stop Nuke starting
            _log().exception("nuke-comfyui: setting up the %s failed; Nuke continues without it", what)
    try:
        check_dependencies(plugin_root)
    except Exception:  # noqa: BLE001 - init.py must never stop Nuke starting
        _log().exception("nuke-comfyui: start-up checks failed; Nuke continues")
