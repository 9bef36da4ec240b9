"""nuke-comfyui for Nuke: runs in GUI sessions only. The ComfyUI menu, toolbar and panels; never raises."""

from __future__ import annotations

import logging


def _nuke_comfyui_menu():
    try:
        from nuke_comfyui.host import menu_setup

        menu_setup.run_menu()
    except Exception:
        logging.getLogger("nuke_comfyui").exception(
            "nuke-comfyui: menu.py failed; Nuke continues without the ComfyUI menu. "
            "See the message above; for a missing package run: nuke-comfyui install-deps --nuke /path/to/Nuke"
        )


_nuke_comfyui_menu()
