"""What the Settings pane shows when the settings cannot be loaded: the error, the file, the line, and a way to fix it.

The Settings pane is the one place in Nuke where a TD can repair a broken settings file, so it must
open when the file is broken. This view shows the loader's message, the file with its faulty line
marked (core/settings_lines finds it: a JSON syntax error's line, or the line of the value the
models refuse), lets the TD edit the text and "Save and load" it (written atomically, then loaded
again), or "Load again" after fixing it elsewhere. When the problem is an environment variable
there is no file to edit: the message says which variable. Once the settings load, `loaded`
(a LoadedConfig) is emitted and the pane shows the normal Settings panel.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

from nuke_comfyui.ui.qt import QtCore, QtGui, QtWidgets, Signal

Loader = Callable[[], Any]


def _write_atomically(path: Path, text: str) -> None:
    fd, temp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


class BrokenSettingsView(QtWidgets.QWidget):
    """The loader's error, the settings file (faulty line marked) to edit, Save and load / Load again."""

    loaded = Signal(object)

    def __init__(self, error: str, path: Optional[Path], loader: Loader,
                 parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("BrokenSettingsView")
        self._path = path if path is not None and path.is_file() else None
        self._loader = loader
        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.editor = QtWidgets.QPlainTextEdit()
        self.editor.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.save_button = QtWidgets.QPushButton("Save and load")
        self.save_button.clicked.connect(self.save_and_load)
        self.reload_button = QtWidgets.QPushButton("Load again")
        self.reload_button.clicked.connect(self.load_again)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("<b>The ComfyUI settings could not be loaded</b>"))
        layout.addWidget(self.message)
        layout.addWidget(self.editor, 1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.reload_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.error_line: Optional[int] = None
        self._show(error, read_file=True)

    def _show(self, error: str, read_file: bool) -> None:
        from nuke_comfyui.core.settings_lines import first_problem

        self.editor.setVisible(self._path is not None)
        self.save_button.setVisible(self._path is not None)
        if self._path is None:
            self.error_line = None
            self.message.setText(f"{error}\n\nFix it (an environment variable is named above) and press Load again.")
            return
        if read_file:
            self.editor.setPlainText(self._path.read_text(encoding="utf-8", errors="replace"))
        problem = first_problem(self.editor.toPlainText())
        self.error_line = problem[0] if problem else None
        where = f"{self._path}, line {self.error_line}" if self.error_line else str(self._path)
        self.message.setText(f"{error}\n\nFile: {where}. Fix it below and press Save and load.")
        self._mark(self.error_line)

    def _mark(self, line: Optional[int]) -> None:
        """Put the cursor on the faulty line and highlight it."""
        if line is None:
            self.editor.setExtraSelections([])
            return
        block = self.editor.document().findBlockByNumber(line - 1)
        cursor = QtGui.QTextCursor(block)
        self.editor.setTextCursor(cursor)
        selection = QtWidgets.QTextEdit.ExtraSelection()
        selection.format.setBackground(QtGui.QColor("#5a2a2a"))
        selection.format.setProperty(QtGui.QTextFormat.Property.FullWidthSelection, True)
        selection.cursor = cursor
        self.editor.setExtraSelections([selection])

    def save_and_load(self) -> None:
        """Write the edited text to the settings file (atomically), then load the settings again."""
        if self._path is None:
            return
        try:
            _write_atomically(self._path, self.editor.toPlainText())
        except OSError as exc:
            self.message.setText(f"Could not save {self._path}: {exc.strerror or exc}; check its folder's permissions.")
            return
        self._try_load(read_file=False)

    def load_again(self) -> None:
        self._try_load(read_file=True)

    def _try_load(self, read_file: bool) -> None:
        from nuke_comfyui.core.errors import ConfigError

        try:
            loaded = self._loader()
        except ConfigError as exc:
            self._show(str(exc), read_file)
            return
        self.loaded.emit(loaded)
