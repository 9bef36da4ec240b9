"""`nuke-comfyui monitor`: the server status and job results panels in a standalone window.

For TDs without Nuke: loads the same configuration the plugin uses, starts a pool and scheduler in
this process and opens the Qt panels (PySide6 or PySide2 via Qt.py).
"""

from __future__ import annotations

import argparse

HELP = "Open the server status and job results panels in a standalone window (no Nuke needed)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="settings JSON file (default: NUKE_COMFYUI_CONFIG or the per-user file)")


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.cli.extras import require_display, require_qt
    from nuke_comfyui.core.config_loader import load_config

    require_qt()
    require_display()  # Qt would abort the process (exit 134) without one
    from nuke_comfyui.core.farm import Farm

    # Read before the window exists: the GUI thread does no disk I/O once it runs.
    loaded = load_config(args.config)
    farm = Farm.from_config(loaded, previews=True)  # a window with a Results panel: the servers' own setting

    from nuke_comfyui.ui.background import wait_for_background
    from nuke_comfyui.ui.monitor_window import MonitorWindow
    from nuke_comfyui.ui.qt import ensure_application, exec_

    app = ensure_application()
    farm.start()
    try:
        window = MonitorWindow(farm.pool, farm.scheduler, loaded=loaded)
        window.show()
        return int(exec_(app) or 0)
    finally:
        wait_for_background(5000)
        farm.stop()
