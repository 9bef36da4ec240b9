"""What menu.py does in a GUI session: the ComfyUI menu, the toolbar, the dockable panels, the
workflow-change hook (nuke.addKnobChanged for Comfy nodes: an interactive event, so GUI only).

Panels are registered by a string that Nuke evaluates only when the pane opens (and when a saved
workspace is restored), so building the menu never imports Qt. Nuke evaluates that string in a
bare `__main__` where only `nuke` and `nukescripts` are bound (nukescripts/panels.py pastes it
into `WidgetKnob(<string>)`), so it must import its own module: a plain dotted path would be a
NameError there.
"""

from __future__ import annotations

import logging
from typing import List, Tuple

import nuke
import nukescripts

log = logging.getLogger(__name__)

MENU_NAME = "ComfyUI"
CALLBACKS = "import nuke_comfyui.host.callbacks as _cb; _cb."
PANES_MODULE = "nuke_comfyui.host.panes"


def widget_expression(class_name: str) -> str:
    """A Python expression for the pane class that works in a bare __main__ (imports its module)."""
    return f"__import__({PANES_MODULE!r}, fromlist=[{class_name!r}]).{class_name}"


# (title, widget expression, panel id): ids are stable so saved workspaces find them again.
PANELS: List[Tuple[str, str, str]] = [
    ("ComfyUI Server Status", widget_expression("ServerStatusPane"), "nuke_comfyui.ServerStatus"),
    ("ComfyUI Settings", widget_expression("SettingsPane"), "nuke_comfyui.Settings"),
    ("ComfyUI Job Results", widget_expression("JobResultsPane"), "nuke_comfyui.JobResults"),
]
# (label, callback call, icon file, shortcut)
COMMANDS: List[Tuple[str, str, str, str]] = [
    ("Comfy Render", "create_comfy_node()", "ComfyRender.png", ""),
    ("Render Selected", "render_selected()", "ComfyRender_render.png", ""),
    ("Cancel Selected", "cancel_selected()", "ComfyRender_cancel.png", ""),
    ("Retry Failed (Selected)", "retry_selected()", "ComfyRender_retry.png", ""),
]


def register_panels() -> None:
    """Dockable panes (Pane menu + workspace restore), each registered independently."""
    for title, widget, panel_id in PANELS:
        try:
            nukescripts.panels.registerWidgetAsPanel(widget, title, panel_id)
        except Exception:
            log.exception("nuke-comfyui: could not register the %s panel", title)


def build_menus() -> None:
    """The ComfyUI menu in the main menu bar and the ComfyUI toolbar with icons."""
    main = nuke.menu("Nuke").addMenu(MENU_NAME)
    bar = nuke.toolbar("Nodes")
    tools = bar.addMenu(MENU_NAME, icon="ComfyUI.png") if bar is not None else None
    for label, call, icon, shortcut in COMMANDS:
        main.addCommand(label, CALLBACKS + call, shortcut, icon=icon)
        if tools is not None:
            tools.addCommand(label, CALLBACKS + call, icon=icon)
    main.addSeparator()
    for title, _, _ in PANELS:
        label = title.replace("ComfyUI ", "")
        main.addCommand(label, f"{CALLBACKS}show_panel({title!r})", icon="ComfyUI.png")


def run_menu() -> None:
    """menu.py's body: menus, panels, re-attach on script load. Never raises."""
    steps = [
        ("ComfyUI menu and toolbar", build_menus),
        ("panels", register_panels),
        ("script-load hook", lambda: nuke.addOnScriptLoad(_reattach)),
        ("workflow-change hook", _follow_workflow_changes),
    ]
    for what, step in steps:
        try:
            step()
        except Exception:
            log.exception("nuke-comfyui: building the %s failed; Nuke continues without it", what)


def _follow_workflow_changes() -> None:
    """knobChanged on Comfy nodes: choosing a workflow builds the Workflow tab (host.workflow_events)."""
    from nuke_comfyui.host import workflow_events

    workflow_events.register()


def _reattach() -> None:
    from nuke_comfyui.host.callbacks import reattach_on_script_load

    reattach_on_script_load()
