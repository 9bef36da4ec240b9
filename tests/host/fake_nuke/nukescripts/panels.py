"""Fake `nukescripts.panels`, following Foundry's own nukescripts/panels.py (Nuke 13-16).

`registerWidgetAsPanel(widget, name, id, create=False)` does not import anything: it pastes
the widget *string* into `nuke.PyCustom_Knob(name, "", "__import__('nukescripts').panels.WidgetKnob("
+ widget + ")")`, adds a Pane-menu command and registers the id for workspace restore. The
string is evaluated only when the pane opens (menu command) or a saved workspace is restored
(`restorePanel(id)`), in Nuke's `__main__`, where only `nuke` and `nukescripts` are bound; so
a bare dotted path like "mypkg.mod.Widget" fails there unless `mypkg` happens to be imported
into `__main__`. The fake evaluates it the same way (PyCustom_Knob.getObject).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Optional

import nuke


class WidgetKnob:
    """What the PyCustom_Knob expression builds: makeUI() instantiates the widget class."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget

    def makeUI(self) -> Any:
        self.widget = self.widget()
        return self.widget


class PythonPanel:
    """A dockable panel holding knobs; addToPane() builds its custom knobs' widgets."""

    def __init__(self, title: str = "", id: str = "", scrollable: bool = True) -> None:
        self.title, self.panel_id = title, id
        self._knobs: List[nuke.Knob] = []
        self.widgets: List[Any] = []

    def addKnob(self, knob: nuke.Knob) -> None:
        self._knobs.append(knob)

    def knobs(self) -> Dict[str, nuke.Knob]:
        return {k.name(): k for k in self._knobs}

    def addToPane(self, pane: Optional[Any] = None) -> Any:
        for knob in self._knobs:
            if isinstance(knob, nuke.PyCustom_Knob):
                widget = knob.getObject()
                self.widgets.append(widget)
                if hasattr(widget, "show"):
                    widget.show()  # docked in its pane
        _opened.append(self)
        return self

    def _fake_hide_tab(self) -> None:
        """Another tab of the pane is brought in front: the widget gets a hide event."""
        for widget in self.widgets:
            widget.hide()

    def _fake_show_tab(self) -> None:
        for widget in self.widgets:
            widget.show()

    def _fake_close_tab(self) -> None:
        """The artist closes the tab: the widget is hidden and destroyed, with no closeEvent."""
        from Qt import QtCore

        for widget in self.widgets:
            widget.hide()
            widget.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        self.widgets = []
        if self in _opened:
            _opened.remove(self)


_panels: Dict[str, Callable[[], Any]] = {}
_opened: List[PythonPanel] = []


def registerPanel(id: str, command: Callable[[], Any]) -> None:
    _panels[id] = command


def unregisterPanel(id: str, command: Callable[[], Any]) -> None:
    del _panels[id]


def restorePanel(id: str) -> Any:
    """What Nuke calls for each panel id of a saved workspace."""
    if id not in _panels:
        raise RuntimeError(f"Can't restore panel '{id}' because it hasn't been registered.")
    return _panels[id]()


class _Registration:
    """Test-side record of one registerWidgetAsPanel call."""

    def __init__(self, widget: str, name: str, panel_id: str, open_pane: Callable[[], PythonPanel]) -> None:
        self.widget, self.name, self.panel_id = widget, name, panel_id
        self._open = open_pane

    def _fake_create(self) -> Any:
        """Open the pane as the Pane menu does; returns the widget Nuke built."""
        return self._open().widgets[-1]


_registered: List[_Registration] = []


def registerWidgetAsPanel(widget: str, name: str, id: str, create: bool = False) -> Any:
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("fake nukescripts: registerWidgetAsPanel off the main thread")
    if not isinstance(widget, str):
        raise TypeError("registerWidgetAsPanel: widget must be a string (Nuke pastes it into an expression)")

    def make_panel() -> PythonPanel:
        panel = PythonPanel(name, id)
        panel.addKnob(nuke.PyCustom_Knob(name, "", "__import__('nukescripts').panels.WidgetKnob(" + widget + ")"))
        return panel

    def add_panel() -> PythonPanel:
        return make_panel().addToPane()

    nuke.menu("Pane").addCommand(name, add_panel)
    registerPanel(id, add_panel)
    _registered.append(_Registration(widget, name, id, add_panel))
    return make_panel() if create else None


def _fake_registered() -> Dict[str, _Registration]:
    return {p.panel_id: p for p in _registered}


def _fake_reset() -> None:
    _registered.clear()
    _panels.clear()
    _opened.clear()
