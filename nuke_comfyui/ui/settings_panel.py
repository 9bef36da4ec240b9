"""Settings panel: the TD's editor for the server list and cluster settings.

Servers from the settings file (and new ones) are editable: add, remove, duplicate, reorder, every
`ServerConfig` field, validated as you type with `core.config`'s own pydantic models so the panel
and the loader can never disagree. Servers defined by environment variables are shown read-only
with the variable they came from (`LoadedConfig.sources`). A path-mapping preview shows where a
local path lands on each server. Connection tests and saving run in workers: no I/O on the GUI thread.
The cluster box (strategy, intervals, retries, studio workflows folder) is `cluster_form`; the
server rows' rules are `server_entries`.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Callable, Dict, List, Optional

from nuke_comfyui.ui.background import run_in_background
from nuke_comfyui.ui.cluster_form import STRATEGIES, ClusterForm
from nuke_comfyui.ui.config_messages import field_messages, validate_cluster, validate_server
from nuke_comfyui.ui.fit import fit_placeholder
from nuke_comfyui.ui.qt import QtCore, QtWidgets, Signal
from nuke_comfyui.ui.server_entries import ServerEntry, default_tester, is_env_source, remote_preview, server_values
from nuke_comfyui.ui.server_form import ServerForm

log = logging.getLogger(__name__)
Qt = QtCore.Qt

Tester = Callable[[Any], Any]
__all__ = ["STRATEGIES", "SettingsPanel", "default_tester", "is_env_source", "remote_preview", "server_values"]


class SettingsPanel(QtWidgets.QWidget):
    """Edits a `LoadedConfig` and saves the file-backed part with `config_loader.save_config`.

    `loaded` is the result of `load_config()` (loading reads disk, so callers do it before or in a
    worker). `path` overrides where Save writes (default: `loaded.path`, else the user's settings
    file). `tester(server_config)` probes one server; the default is the pool's connection test.
    """

    saved = Signal(str)
    validated = Signal()
    message_changed = Signal(str)

    def __init__(self, loaded: Any, path: Optional[str] = None, tester: Optional[Tester] = None,
                 parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("SettingsPanel")
        self.setWindowTitle("ComfyUI Servers: Settings")
        self._path = path or (str(loaded.path) if getattr(loaded, "path", None) else None)
        self._tester = tester or default_tester
        sources = list(getattr(loaded, "sources", []) or [])
        self._entries: List[ServerEntry] = [
            ServerEntry(server_values(server), sources[i] if i < len(sources) else "")
            for i, server in enumerate(loaded.cluster.servers)
        ]
        self._current = -1
        self._build(loaded)
        self._reload_list(0 if self._entries else -1)
        self._preview_timer = QtCore.QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(250)
        self._preview_timer.timeout.connect(self.update_preview)

    # -- construction ------------------------------------------------------------------------
    def _build(self, loaded: Any) -> None:
        self.server_list = QtWidgets.QListWidget()
        self.server_list.currentRowChanged.connect(self._on_row_changed)
        self.add_button = QtWidgets.QPushButton("Add")
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.duplicate_button = QtWidgets.QPushButton("Duplicate")
        self.up_button = QtWidgets.QPushButton("Up")
        self.down_button = QtWidgets.QPushButton("Down")
        self.add_button.clicked.connect(self.add_server)
        self.remove_button.clicked.connect(self.remove_server)
        self.duplicate_button.clicked.connect(self.duplicate_server)
        self.up_button.clicked.connect(lambda: self.move_server(-1))
        self.down_button.clicked.connect(lambda: self.move_server(1))
        self.form = ServerForm()
        self.form.edited.connect(self._on_form_edited)
        self.test_button = QtWidgets.QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_current)
        self.test_result = QtWidgets.QLabel("")
        self.test_result.setWordWrap(True)
        self.cluster_form = ClusterForm(loaded.cluster, getattr(loaded, "cluster_variables", None),
                                        getattr(loaded, "file_cluster", None))
        self.cluster_form.edited.connect(self.validate_all)
        form = self.cluster_form  # the editors, by their old names (tests, screenshots)
        self.strategy, self.poll_interval, self.stats_interval = form.strategy, form.poll_interval, form.stats_interval
        self.job_timeout, self.retries, self.workflows_folder = form.job_timeout, form.retries, form.workflows_folder
        self.cluster_error = form.error
        self.preview_input = QtWidgets.QLineEdit()
        self.preview_input.setPlaceholderText("Type a local path, e.g. /mnt/comfy/input/plate.1001.png")
        fit_placeholder(self.preview_input)
        self.preview_input.textChanged.connect(lambda _text: self._preview_timer.start())
        self.preview_table = QtWidgets.QTableWidget(0, 2)
        self.preview_table.setHorizontalHeaderLabels(["Server", "Remote path"])
        self.preview_table.horizontalHeader().setStretchLastSection(True)
        self.preview_table.verticalHeader().setVisible(False)
        self.preview_table.setMaximumHeight(120)
        self.save_button = QtWidgets.QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self._layout()

    def _layout(self) -> None:
        list_buttons = QtWidgets.QGridLayout()
        for i, button in enumerate((self.add_button, self.duplicate_button, self.remove_button,
                                    self.up_button, self.down_button)):
            list_buttons.addWidget(button, i // 3, i % 3)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(QtWidgets.QLabel("Servers"))
        left.addWidget(self.server_list, 1)
        left.addLayout(list_buttons)

        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)  # no empty framed band under a short form
        scroll.setWidget(self.form)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(scroll, 1)
        test_row = QtWidgets.QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        right.addLayout(test_row)

        top = QtWidgets.QHBoxLayout()
        top.addLayout(left, 1)
        top.addLayout(right, 2)

        preview_box = QtWidgets.QGroupBox("Path mapping preview")
        preview_layout = QtWidgets.QVBoxLayout(preview_box)
        preview_layout.addWidget(self.preview_input)
        preview_layout.addWidget(self.preview_table)

        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.cluster_form, 1)
        bottom.addWidget(preview_box, 2)

        save_row = QtWidgets.QHBoxLayout()
        save_row.addWidget(self.message, 1)
        save_row.addWidget(self.save_button)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addLayout(bottom)
        layout.addLayout(save_row)

    # -- server list -------------------------------------------------------------------------
    def entries(self) -> List[Dict[str, Any]]:
        """Raw values of every server shown (file, new and env-var servers), in list order."""
        return [copy.deepcopy(entry.values) for entry in self._entries]

    def sources(self) -> List[str]:
        return [entry.source for entry in self._entries]

    def select(self, row: int) -> None:
        self.server_list.setCurrentRow(row)

    def add_server(self) -> None:
        name = self._unique_name("server")
        self._entries.append(ServerEntry({"name": name, "host": "127.0.0.1", "port": 8188}, "new"))
        self._reload_list(len(self._entries) - 1)

    def duplicate_server(self) -> None:
        if self._current < 0:
            return
        values = copy.deepcopy(self._entries[self._current].values)
        values["name"] = self._unique_name(f"{values.get('name') or 'server'}-copy")
        self._entries.insert(self._current + 1, ServerEntry(values, "new"))
        self._reload_list(self._current + 1)

    def remove_server(self) -> None:
        if self._current < 0:
            return
        entry = self._entries[self._current]
        if entry.read_only:
            self._show(f"{entry.source} defines this server: unset that variable to remove it.")
            return
        del self._entries[self._current]
        self._reload_list(min(self._current, len(self._entries) - 1))

    def move_server(self, step: int) -> None:
        row, target = self._current, self._current + step
        if row < 0 or not 0 <= target < len(self._entries):
            return
        self._entries[row], self._entries[target] = self._entries[target], self._entries[row]
        self._reload_list(target)

    def _unique_name(self, base: str) -> str:
        names = {entry.values.get("name") for entry in self._entries}
        candidate, n = base, 2
        while candidate in names:
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def _reload_list(self, select: int) -> None:
        self.server_list.blockSignals(True)
        self.server_list.clear()
        for entry in self._entries:
            self.server_list.addItem(entry.item_text())
        self.server_list.blockSignals(False)
        self._current = -1
        if select >= 0:
            self.server_list.setCurrentRow(select)
        else:
            self.form.set_values({"name": ""}, read_only=True, source="nothing: add a server")
        self.validate_all()

    def _on_row_changed(self, row: int) -> None:
        self._current = row
        if 0 <= row < len(self._entries):
            entry = self._entries[row]
            self.form.set_values(entry.values, read_only=entry.read_only, source=entry.source)
            self.form.show_errors(entry.errors)
            self.test_result.setText("")
        enabled = 0 <= row < len(self._entries) and not self._entries[row].read_only
        self.remove_button.setEnabled(enabled)

    def _on_form_edited(self) -> None:
        if self._current < 0 or self._entries[self._current].read_only:
            return
        entry = self._entries[self._current]
        entry.values = self.form.values()
        self.validate_all()
        self.server_list.item(self._current).setText(entry.item_text())
        self._preview_timer.start()

    # -- validation --------------------------------------------------------------------------
    def cluster_values(self) -> Dict[str, Any]:
        return self.cluster_form.values()

    def validate_all(self) -> Optional[Any]:
        """Validate every server and the cluster; show messages; return the file's ClusterConfig or None."""
        servers, ok = [], True
        names: Dict[str, int] = {}
        for i, entry in enumerate(self._entries):
            config, entry.errors = validate_server(entry.values)
            name = entry.values.get("name")
            if config is not None and name in names:
                entry.errors = {"name": f"name: {name!r} is used twice; give each server its own name"}
                config = None
            names.setdefault(name, i)
            ok = ok and config is not None
            if config is not None and not entry.read_only:
                servers.append(config)
            item = self.server_list.item(i)
            if item is not None:
                item.setText(entry.item_text())
        if 0 <= self._current < len(self._entries):
            self.form.show_errors(self._entries[self._current].errors)
        cluster, cluster_errors = validate_cluster(servers, self.cluster_values())
        self.cluster_form.show_errors(cluster_errors)
        self.save_button.setEnabled(ok and cluster is not None)
        self.validated.emit()
        return cluster if ok else None

    # -- path preview ------------------------------------------------------------------------
    def update_preview(self) -> None:
        """Map the typed local path for every valid server (in a worker) and list the answers."""
        local = self.preview_input.text().strip()
        configs = [validate_server(entry.values)[0] for entry in self._entries]
        servers = [config for config in configs if config is not None]
        if not local:
            self.preview_table.setRowCount(0)
            return
        run_in_background(
            lambda: [(server.name, remote_preview(server, local)) for server in servers],
            self._show_preview,
            lambda exc: self._show(f"Path preview failed: {exc}"),
            owner=self,
        )

    def _show_preview(self, rows: List[tuple]) -> None:
        self.preview_table.setRowCount(len(rows))
        for i, (name, remote) in enumerate(rows):
            self.preview_table.setItem(i, 0, QtWidgets.QTableWidgetItem(str(name)))
            self.preview_table.setItem(i, 1, QtWidgets.QTableWidgetItem(str(remote)))

    def preview_rows(self) -> List[tuple]:
        return [
            (self.preview_table.item(i, 0).text(), self.preview_table.item(i, 1).text())
            for i in range(self.preview_table.rowCount())
        ]

    # -- connection test ---------------------------------------------------------------------
    def test_current(self) -> None:
        if self._current < 0:
            return
        config, _errors = validate_server(self._entries[self._current].values)
        if config is None:
            self.test_result.setText("Fix the fields marked above first.")
            return
        self.test_button.setEnabled(False)
        self.test_result.setText(f"Testing {config.name}...")
        run_in_background(lambda: self._tester(config), self._after_test, self._after_test_error, owner=self)

    def _after_test(self, result: Any) -> None:
        from nuke_comfyui.ui.status_panel import describe_test

        self.test_button.setEnabled(True)
        self.test_result.setText(describe_test(getattr(result, "name", "server"), result))

    def _after_test_error(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setText(f"Connection test failed: {exc}")

    # -- save --------------------------------------------------------------------------------
    def save_path(self) -> Optional[str]:
        return self._path

    def save(self) -> None:
        """Validate, then write the file-backed servers and cluster settings in a worker."""
        cluster = self.validate_all()
        if cluster is None:
            self._show("Not saved: fix the fields marked in orange first.")
            return
        path = self._path or self._default_path()
        if not path:
            self._show("Not saved: no settings file; set NUKE_COMFYUI_CONFIG or pass --config.")
            return
        self.save_button.setEnabled(False)
        self._show(f"Saving to {path}...")
        run_in_background(
            lambda: self._write(cluster, path), self._after_save, self._after_save_error, owner=self
        )

    @staticmethod
    def _default_path() -> Optional[str]:
        from nuke_comfyui.core import config_loader

        finder = getattr(config_loader, "default_config_path", None)
        return str(finder()) if finder is not None else None

    @staticmethod
    def _write(cluster: Any, path: str) -> str:
        from nuke_comfyui.core.config_loader import save_config

        save_config(cluster, path)
        return path

    def _after_save(self, path: str) -> None:
        self._path = path
        for entry in self._entries:
            if entry.source == "new":
                entry.source = f"file {path}"
        self.save_button.setEnabled(True)
        self._show(f"Saved to {path}.")
        self.saved.emit(path)

    def _after_save_error(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        errors = field_messages(exc)
        self._show("Not saved: " + "; ".join(errors.values()))

    def _show(self, text: str) -> None:
        self.message.setText(text)
        self.message_changed.emit(text)
