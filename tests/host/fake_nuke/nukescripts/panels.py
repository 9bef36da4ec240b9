"""Fake `nukescripts.panels`: records dockable panel registrations."""

from __future__ import annotations

import importlib
import threading
from typing import Any, Dict, List

import nuke


class PythonPanel:
    """What registerWidgetAsPanel returns: a named panel that can be added to a pane later."""

    def __init__(self, widget: str, name: str, panel_id: str) -> None:
        self.widget, self.name, self.panel_id = widget, name, panel_id
        self.created: List[Any] = []

    def addToPane(self, pane: Any = None) -> None:
        self.created.append(self._fake_create())

    def _fake_create(self) -> Any:
        """Resolve the dotted path and instantiate the widget, as Nuke does when the pane opens."""
        module_name, _, class_name = self.widget.rpartition(".")
        return getattr(importlib.import_module(module_name), class_name)()


_registered: List[PythonPanel] = []


def registerWidgetAsPanel(widget: str, name: str, id: str, create: bool = False) -> Any:
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("fake nukescripts: registerWidgetAsPanel off the main thread")
    if not isinstance(widget, str):
        raise TypeError("pass the widget class as a 'module.Class' string so it is created lazily")
    panel = PythonPanel(widget, name, id)
    _registered.append(panel)
    # Like Nuke: a Pane-menu entry that creates the widget on demand, and None unless create.
    nuke.menu("Pane").addCommand(name, panel.addToPane)
    return panel._fake_create() if create else None


def _fake_registered() -> Dict[str, PythonPanel]:
    return {p.panel_id: p for p in _registered}


def _fake_reset() -> None:
    _registered.clear()
