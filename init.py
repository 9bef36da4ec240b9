"""nuke-comfyui for Nuke: runs in EVERY session (GUI, `nuke -t`, render farm). No UI here, never raises.

Adds the plugin's dependency folder for this Python (deps/py<X.Y>-<platform>, filled by
`nuke-comfyui install-deps --nuke /path/to/Nuke`), and gizmos/ + icons/ to Nuke's plugin path.
Problems (missing packages) are logged with the fix; Nuke starts anyway. It runs on every farm
render, so it imports almost nothing: no pydantic, requests or server settings until first use
(`nuke-comfyui bench --init-import` measures what it adds to start-up).
"""

from __future__ import annotations

import os
import sys


def _nuke_comfyui_plugin_root():
    """This file's folder; Nuke may exec init.py without __file__, so fall back to sys.path."""
    here = globals().get("__file__")
    if here:
        return os.path.dirname(os.path.abspath(here))
    for folder in sys.path:
        if os.path.isfile(os.path.join(folder, "nuke_comfyui", "host", "startup.py")):
            return os.path.abspath(folder)
    return None


def _nuke_comfyui_init():
    try:
        root = _nuke_comfyui_plugin_root()
        if root is None:
            raise ImportError("cannot find the nuke_comfyui folder; add the plugin folder to NUKE_PATH")
        if root not in sys.path:
            sys.path.insert(0, root)
        from nuke_comfyui.host import startup

        startup.run_init(root)
    except Exception:
        import logging

        logging.getLogger("nuke_comfyui").exception(
            "nuke-comfyui: init.py failed; Nuke continues without the plugin. "
            "Check the plugin folder on NUKE_PATH, then run: nuke-comfyui install-deps --nuke /path/to/Nuke"
        )


_nuke_comfyui_init()
