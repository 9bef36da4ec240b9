"""The Comfy node's *Submit to farm* dialog: how the render goes to the farm manager.

A small form, in the spirit of the Deadline submitters a TD knows: who talks to ComfyUI
(thin or gpu workers), frames and variations per task, the job's priority, retries per task,
failed tasks before the job fails, submit suspended, and the folder the bundle is written to.
*Submit* writes the bundle and runs `deadline bundle submit` (offered only when that command is
installed); *Save bundle only* writes it. The dialog only collects values (a FarmChoices):
host writes the plate and the bundle, so no Nuke call and no file write happens here.
"""

from __future__ import annotations

from typing import Any, Optional

from nuke_comfyui.farm_bundle.choices import FarmChoices
from nuke_comfyui.farm_bundle.scheduling import MAX_COUNT, MAX_PRIORITY, Scheduling
from nuke_comfyui.farm_bundle.template import LAYOUTS, MAX_CHUNK
from nuke_comfyui.ui.qt import QtWidgets, exec_

LAYOUT_TEXT = {"thin": "thin: CPU workers drive the shared ComfyUI servers",
               "gpu": "gpu: each worker renders on its own ComfyUI"}
MAX_VARIATIONS_SPIN = 1000


class FarmSubmitDialog(QtWidgets.QDialog):
    """Collects FarmChoices; `choices()` reads them, `submit_requested` says which button closed it."""

    def __init__(self, title: str, defaults: FarmChoices, *, deadline_found: bool, has_frames: bool,
                 variations: int, parent: Optional[Any] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("nukeComfyFarmDialog")
        self.submit_requested = False
        form = QtWidgets.QFormLayout()
        self.layout_box = QtWidgets.QComboBox()
        for name in LAYOUTS:
            self.layout_box.addItem(LAYOUT_TEXT[name], name)
        self.layout_box.setCurrentIndex(list(LAYOUTS).index(defaults.layout))
        form.addRow("Workers", self.layout_box)
        self.frames_per_task = self._spin(1, MAX_CHUNK, defaults.frames_per_task or 1)
        self.frames_per_task.setEnabled(has_frames)
        form.addRow("Frames per task", self.frames_per_task)
        self.variations_per_task = self._spin(1, max(1, min(variations, MAX_VARIATIONS_SPIN)),
                                              defaults.variations_per_task or (variations if has_frames else 1))
        self.variations_per_task.setEnabled(variations > 1)
        form.addRow("Variations per task", self.variations_per_task)
        scheduling = defaults.scheduling
        self.priority = self._spin(0, MAX_PRIORITY, scheduling.priority)
        form.addRow("Priority", self.priority)
        self.max_retries = self._spin(0, MAX_COUNT, scheduling.max_retries_per_task)
        form.addRow("Retries per task", self.max_retries)
        self.max_failed = self._spin(0, MAX_COUNT, scheduling.max_failed_tasks)
        form.addRow("Failed tasks before the job fails", self.max_failed)
        self.suspended = QtWidgets.QCheckBox("Submit suspended")
        self.suspended.setChecked(scheduling.suspended)
        form.addRow("", self.suspended)
        self.folder = QtWidgets.QLineEdit(defaults.bundle_dir or "")
        browse = QtWidgets.QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.folder)
        row.addWidget(browse)
        form.addRow("Bundle folder", row)
        self.note = QtWidgets.QLabel("" if deadline_found else
                                     "AWS Deadline Cloud's `deadline` command is not installed here: "
                                     "save the bundle and submit it from a machine that has it.")
        self.note.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox()
        self.submit_button = buttons.addButton("Submit", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit_button.setEnabled(deadline_found)
        self.save_button = buttons.addButton("Save bundle only", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.submit_button.clicked.connect(lambda: self._finish(submit=True))
        self.save_button.clicked.connect(lambda: self._finish(submit=False))
        buttons.rejected.connect(self.reject)
        outer = QtWidgets.QVBoxLayout(self)
        outer.addLayout(form)
        outer.addWidget(self.note)
        outer.addWidget(buttons)

    @staticmethod
    def _spin(low: int, high: int, value: int) -> Any:
        spin = QtWidgets.QSpinBox()
        spin.setRange(low, high)
        spin.setValue(max(low, min(high, value)))
        return spin

    def _browse(self) -> None:
        chosen = QtWidgets.QFileDialog.getExistingDirectory(self, "Bundle folder", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def _finish(self, *, submit: bool) -> None:
        if not self.folder.text().strip():
            self.note.setText("Choose the folder the bundle is written to.")
            return
        self.submit_requested = submit
        self.accept()

    def choices(self) -> FarmChoices:
        """The values as shown (whichever button is pressed)."""
        return FarmChoices(
            layout=str(self.layout_box.currentData()),
            frames_per_task=self.frames_per_task.value() if self.frames_per_task.isEnabled() else None,
            variations_per_task=self.variations_per_task.value() if self.variations_per_task.isEnabled() else None,
            scheduling=Scheduling(priority=self.priority.value(), max_retries_per_task=self.max_retries.value(),
                                  max_failed_tasks=self.max_failed.value(), suspended=self.suspended.isChecked()),
            bundle_dir=self.folder.text().strip(),
            submit=self.submit_requested,
        )


def ask(title: str, defaults: FarmChoices, *, deadline_found: bool, has_frames: bool, variations: int,
        parent: Optional[Any] = None) -> Optional[FarmChoices]:
    """Show the dialog modally; the choices, or None when cancelled. Main thread only."""
    dialog = FarmSubmitDialog(title, defaults, deadline_found=deadline_found, has_frames=has_frames,
                              variations=variations, parent=parent)
    try:
        if not exec_(dialog):
            return None
        return dialog.choices()
    finally:
        dialog.deleteLater()
