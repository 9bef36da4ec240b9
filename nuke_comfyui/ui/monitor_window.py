"""The standalone monitor window: status and results panels side by side, for TDs without Nuke.

`nuke-comfyui monitor` builds a Farm (pool + scheduler) in this process and shows this window;
inside Nuke the same panels are docked by host instead.
"""

from __future__ import annotations

from typing import Any, Optional

from nuke_comfyui.ui.qt import QtCore, QtWidgets
from nuke_comfyui.ui.results_panel import JobResultsPanel
from nuke_comfyui.ui.settings_panel import SettingsPanel
from nuke_comfyui.ui.status_panel import ServerStatusPanel


class MonitorWindow(QtWidgets.QMainWindow):
    """Servers on top, results below; the settings editor in a second tab when a config is given."""

    def __init__(self, pool: Any, scheduler: Any, loaded: Optional[Any] = None,
                 parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("nuke-comfyui monitor")
        self.status_panel = ServerStatusPanel(pool, scheduler=scheduler)
        self.results_panel = JobResultsPanel(scheduler)
        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        splitter.addWidget(self.status_panel)
        splitter.addWidget(self.results_panel)
        splitter.setStretchFactor(1, 2)
        tabs = QtWidgets.QTabWidget()
        tabs.addTab(splitter, "Monitor")
        self.settings_panel: Optional[SettingsPanel] = None
        if loaded is not None:
            self.settings_panel = SettingsPanel(loaded)
            tabs.addTab(self.settings_panel, "Settings")
        self.setCentralWidget(tabs)
        self.resize(1000, 760)

    def closeEvent(self, event: Any) -> None:
        self.status_panel.shutdown()
        self.results_panel.shutdown()
        super().closeEvent(event)
