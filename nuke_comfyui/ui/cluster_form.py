"""The settings panel's "Cluster" box: strategy, intervals, retries and the studio workflows folder.

Values are validated by the panel with core's ClusterConfig (so the panel and the loader never
disagree). A field an environment variable sets (env.py: a variable wins over the file) is shown
with the variable's value, read-only and labelled with it, and Save writes the file's own value
for it (or leaves it out), so saving never copies a launcher's or farm job's override into the
studio file.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from nuke_comfyui.ui.fit import fit_placeholder
from nuke_comfyui.ui.qt import QtWidgets, Signal
from nuke_comfyui.ui.server_form import ERROR_STYLE

STRATEGIES = ["fastest", "least-loaded", "priority", "round-robin"]


class ClusterForm(QtWidgets.QGroupBox):
    """Editors for the ClusterConfig fields other than the server list; `edited` on every change."""

    edited = Signal()

    def __init__(self, cluster: Any, variables: Optional[Mapping[str, str]] = None,
                 file_values: Optional[Mapping[str, Any]] = None,
                 parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__("Cluster", parent)
        self._variables = dict(variables or {})
        self._file_values = dict(file_values or {})
        self.strategy = QtWidgets.QComboBox()
        self.strategy.addItems(STRATEGIES)
        self.strategy.setCurrentIndex(max(0, self.strategy.findText(str(cluster.strategy))))
        self.poll_interval = _double(cluster.poll_interval, 0.0, 3600.0, " s")
        self.stats_interval = _double(getattr(cluster, "stats_interval", 10.0), 0.0, 3600.0, " s")
        self.job_timeout = _double(cluster.job_timeout, 0.0, 86400.0, " s")
        self.retries = QtWidgets.QSpinBox()
        self.retries.setRange(-1, 100)
        self.retries.setValue(int(cluster.retries))
        self.workflows_folder = QtWidgets.QLineEdit(str(getattr(cluster, "workflows_folder", None) or ""))
        self.workflows_folder.setPlaceholderText("e.g. /studio/comfy_workflows")
        self.workflows_folder.setToolTip("The studio's workflows: its *.json files fill the Comfy node's pick list")
        fit_placeholder(self.workflows_folder)
        self.browse_button = QtWidgets.QPushButton("Browse...")
        self.browse_button.clicked.connect(self.browse_workflows_folder)
        variable = self._variables.get("workflows_folder")
        self.workflows_source = QtWidgets.QLabel(f"set by {variable}; unset it to edit here" if variable else "")
        self.workflows_source.setVisible(bool(variable))
        self.browse_button.setEnabled(not variable)
        for key, widget in self._widgets().items():
            if key in self._variables:
                widget.setEnabled(False)
                widget.setToolTip(f"set by {self._variables[key]} (a variable wins over the settings file)")
        self.error = QtWidgets.QLabel("")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        for widget in (self.poll_interval, self.stats_interval, self.job_timeout, self.retries):
            widget.valueChanged.connect(lambda *_: self.edited.emit())
        self.strategy.currentIndexChanged.connect(lambda *_: self.edited.emit())
        self.workflows_folder.textChanged.connect(lambda *_: self.edited.emit())
        self._layout()

    def _layout(self) -> None:
        form = QtWidgets.QFormLayout(self)
        form.addRow("Strategy", self.strategy)
        form.addRow("Poll interval", self.poll_interval)
        form.addRow("Stats interval", self.stats_interval)
        form.addRow("Job timeout", self.job_timeout)
        form.addRow("Retries", self.retries)
        folder_row = QtWidgets.QHBoxLayout()
        folder_row.addWidget(self.workflows_folder, 1)
        folder_row.addWidget(self.browse_button)
        form.addRow("Workflows folder", folder_row)
        form.addRow("", self.workflows_source)
        form.addRow(self.error)

    def _widgets(self) -> Dict[str, Any]:
        return {"strategy": self.strategy, "poll_interval": self.poll_interval,
                "stats_interval": self.stats_interval, "job_timeout": self.job_timeout,
                "retries": self.retries, "workflows_folder": self.workflows_folder}

    def browse_workflows_folder(self) -> None:
        """A folder chooser (Qt's own dialog: it lists folders, it does not read them on this thread)."""
        chosen = QtWidgets.QFileDialog.getExistingDirectory(self, "Studio workflows folder",
                                                            self.workflows_folder.text())
        if chosen:
            self.workflows_folder.setText(chosen)

    def values(self) -> Dict[str, Any]:
        """The cluster fields to save: a field a variable sets keeps the file's own value (or the default)."""
        values: Dict[str, Any] = {
            "strategy": self.strategy.currentText(),
            "poll_interval": self.poll_interval.value(),
            "stats_interval": self.stats_interval.value(),
            "job_timeout": self.job_timeout.value(),
            "retries": self.retries.value(),
            "workflows_folder": self.workflows_folder.text().strip() or None,
        }
        for key in self._variables:
            if key in self._file_values:
                values[key] = self._file_values[key]
            else:
                values.pop(key, None)
        return values

    def show_errors(self, errors: Dict[str, str]) -> None:
        self.error.setText("\n".join(errors.values()))
        self.error.setVisible(bool(errors))


def _double(value: float, low: float, high: float, suffix: str) -> QtWidgets.QDoubleSpinBox:
    box = QtWidgets.QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(2)
    box.setSuffix(suffix)
    box.setValue(float(value))
    return box
