"""The form that edits one server of the settings panel: every `ServerConfig` field, each with a
message line under it where validation problems are shown.

The form only converts between widgets and a plain dict of raw values (strings stay as typed, so
`${VAR}` references in tokens and passwords survive); validation is `core.config`'s job and the
settings panel feeds its messages back through `show_errors`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from nuke_comfyui.ui.fit import fit_placeholder
from nuke_comfyui.ui.qt import QtCore, QtWidgets, Signal

Qt = QtCore.Qt

TRANSFERS = ["upload", "shared"]
AUTH_KINDS = ["none", "bearer", "basic"]
ERROR_STYLE = "color: #e8843c;"


def split_job_types(text: str) -> List[str]:
    """'upscale, inpaint' -> ['upscale', 'inpaint'] (empty = accepts every job type)."""
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def source_text(read_only: bool, source: str) -> str:
    """The line above the form saying where a server is defined."""
    if read_only:
        return f"Read-only: defined by {source}. Change it there, or add a server here to override it."
    return f"Source: {source}" if source else "New server (saved to the settings file)"


class ServerForm(QtWidgets.QWidget):
    """Widgets for one server; `edited` fires on every change with nothing else done."""

    edited = Signal()

    # field key (as pydantic reports it) -> label text
    FIELDS = [
        ("name", "Name"),
        ("host", "Host"),
        ("port", "Port"),
        ("url", "URL"),
        ("dir_local", "Local ComfyUI root"),
        ("dir_remote", "Server ComfyUI root"),
        ("priority", "Priority"),
        ("enabled", "Enabled"),
        ("job_types", "Job types"),
        ("max_concurrent", "Max concurrent"),
        ("transfer", "Transfer"),
        ("auth.kind", "Auth"),
        ("auth.token", "Token"),
        ("auth.username", "Username"),
        ("auth.password", "Password"),
        ("verify_tls", "Verify TLS"),
    ]

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        self._loading = False
        self.widgets: Dict[str, QtWidgets.QWidget] = self._make_widgets()
        self.errors: Dict[str, QtWidgets.QLabel] = {}
        self.source_label = QtWidgets.QLabel("")
        self.source_label.setWordWrap(True)
        self.general_error = QtWidgets.QLabel("")
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.setVisible(False)
        self._layout()
        self._connect()
        self._update_auth_visibility()

    # -- construction ------------------------------------------------------------------------
    def _make_widgets(self) -> Dict[str, QtWidgets.QWidget]:
        port = QtWidgets.QSpinBox()
        port.setRange(0, 99999)
        priority = QtWidgets.QSpinBox()
        priority.setRange(-1000, 1000)
        max_concurrent = QtWidgets.QSpinBox()
        max_concurrent.setRange(0, 64)
        transfer = QtWidgets.QComboBox()
        transfer.addItems(TRANSFERS)
        auth_kind = QtWidgets.QComboBox()
        auth_kind.addItems(AUTH_KINDS)
        token = QtWidgets.QLineEdit()
        token.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        token.setPlaceholderText("token or ${ENV_VAR}")
        password = QtWidgets.QLineEdit()
        password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        password.setPlaceholderText("password or ${ENV_VAR}")
        url = QtWidgets.QLineEdit()
        url.setPlaceholderText("optional: https://host:port (wins over host and port)")
        job_types = QtWidgets.QLineEdit()
        job_types.setPlaceholderText("comma separated; empty accepts every job type")
        for edit in (token, password, url, job_types):
            fit_placeholder(edit)
        return {
            "name": QtWidgets.QLineEdit(),
            "host": QtWidgets.QLineEdit(),
            "port": port,
            "url": url,
            "dir_local": QtWidgets.QLineEdit(),
            "dir_remote": QtWidgets.QLineEdit(),
            "priority": priority,
            "enabled": QtWidgets.QCheckBox(),
            "job_types": job_types,
            "max_concurrent": max_concurrent,
            "transfer": transfer,
            "auth.kind": auth_kind,
            "auth.token": token,
            "auth.username": QtWidgets.QLineEdit(),
            "auth.password": password,
            "verify_tls": QtWidgets.QCheckBox(),
        }

    def _layout(self) -> None:
        form = self.form_layout = QtWidgets.QFormLayout()
        self.labels: Dict[str, QtWidgets.QLabel] = {}
        self.rows: Dict[str, QtWidgets.QWidget] = {}  # each field with its message line, hidden as one
        for key, text in self.FIELDS:
            error = QtWidgets.QLabel("")
            error.setObjectName(f"error:{key}")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.setVisible(False)
            self.errors[key] = error
            row = QtWidgets.QWidget()  # a widget, not a bare layout: hiding it removes the row's spacing too
            column = QtWidgets.QVBoxLayout(row)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            column.addWidget(self.widgets[key])
            column.addWidget(error)
            label = QtWidgets.QLabel(text)
            self.labels[key] = label
            self.rows[key] = row
            form.addRow(label, row)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.source_label)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addStretch(1)  # spare height goes below the fields, never between them

    def _connect(self) -> None:
        for widget in self.widgets.values():
            if isinstance(widget, QtWidgets.QLineEdit):
                widget.textEdited.connect(self._changed)
            elif isinstance(widget, QtWidgets.QSpinBox):
                widget.valueChanged.connect(self._changed)
            elif isinstance(widget, QtWidgets.QComboBox):
                widget.currentIndexChanged.connect(self._changed)
            elif isinstance(widget, QtWidgets.QCheckBox):
                widget.toggled.connect(self._changed)

    def _changed(self, *_args: Any) -> None:
        self._update_auth_visibility()
        if not self._loading:
            self.edited.emit()

    def _update_auth_visibility(self) -> None:
        kind = self.widgets["auth.kind"].currentText()
        for key, wanted in (("auth.token", "bearer"), ("auth.username", "basic"), ("auth.password", "basic")):
            visible = kind == wanted
            self.widgets[key].setVisible(visible)
            if hasattr(self.form_layout, "setRowVisible"):  # Qt 6.4+: the row and its spacing go
                self.form_layout.setRowVisible(self.rows[key], visible)
            else:  # Qt 5 (Nuke 14, 15) keeps a hidden row's spacing: a few pixels per row
                self.rows[key].setVisible(visible)
                self.labels[key].setVisible(visible)
            if not visible:
                self.errors[key].setVisible(False)

    # -- values ------------------------------------------------------------------------------
    def set_values(self, values: Dict[str, Any], read_only: bool = False, source: str = "") -> None:
        """Show one server's raw values; env-var servers are read-only and say where they came from."""
        self._loading = True
        try:
            w = self.widgets
            for key in ("name", "host", "dir_local", "dir_remote"):
                w[key].setText(str(values.get(key) or ""))
            w["url"].setText(str(values.get("url") or ""))
            w["port"].setValue(int(values.get("port", 8188)))
            w["priority"].setValue(int(values.get("priority", 0)))
            w["max_concurrent"].setValue(int(values.get("max_concurrent", 1)))
            w["enabled"].setChecked(bool(values.get("enabled", True)))
            w["verify_tls"].setChecked(bool(values.get("verify_tls", True)))
            w["job_types"].setText(", ".join(values.get("job_types") or []))
            transfer = values.get("transfer", "upload")
            w["transfer"].setCurrentIndex(TRANSFERS.index(transfer) if transfer in TRANSFERS else 0)
            auth = values.get("auth") or {}
            kind = auth.get("kind") or "none"
            w["auth.kind"].setCurrentIndex(AUTH_KINDS.index(kind) if kind in AUTH_KINDS else 0)
            for key in ("token", "username", "password"):
                w[f"auth.{key}"].setText(str(auth.get(key) or ""))
            for widget in w.values():
                widget.setEnabled(not read_only)
            self.source_label.setText(source_text(read_only, source))
            self._update_auth_visibility()
        finally:
            self._loading = False
        self.show_errors({})

    def values(self) -> Dict[str, Any]:
        """The raw values as a dict ready for `ServerConfig(**values)`."""
        w = self.widgets
        values: Dict[str, Any] = {
            "name": w["name"].text().strip(),
            "host": w["host"].text().strip(),
            "port": w["port"].value(),
            "url": w["url"].text().strip() or None,
            "dir_local": w["dir_local"].text().strip(),
            "dir_remote": w["dir_remote"].text().strip(),
            "priority": w["priority"].value(),
            "enabled": w["enabled"].isChecked(),
            "job_types": split_job_types(w["job_types"].text()),
            "max_concurrent": w["max_concurrent"].value(),
            "transfer": w["transfer"].currentText(),
            "auth": None,
            "verify_tls": w["verify_tls"].isChecked(),
        }
        kind = w["auth.kind"].currentText()
        if kind == "bearer":
            values["auth"] = {"kind": "bearer", "token": w["auth.token"].text() or None}
        elif kind == "basic":
            values["auth"] = {"kind": "basic", "username": w["auth.username"].text() or None,
                              "password": w["auth.password"].text() or None}
        return values

    # -- validation feedback -----------------------------------------------------------------
    def show_errors(self, errors: Dict[str, str]) -> None:
        """`{"port": "port: ...", "": "..."}`: each message under its field, the rest at the bottom."""
        general = []
        for label in self.errors.values():
            label.setVisible(False)
            label.setText("")
        for key, message in errors.items():
            target = self.errors.get(key) or self.errors.get(key.split(".")[0])
            if target is None and key.startswith("auth"):
                target = self.errors["auth.kind"]
            if target is None:
                general.append(message)
                continue
            text = f"{target.text()}\n{message}" if target.text() else message
            target.setText(text)
            target.setVisible(True)
        self.general_error.setText("\n".join(general))
        self.general_error.setVisible(bool(general))

    def visible_errors(self) -> Dict[str, str]:
        """Messages currently shown, by field (tests and the panel's summary use it)."""
        shown = {key: label.text() for key, label in self.errors.items() if label.text()}
        if self.general_error.text():
            shown[""] = self.general_error.text()
        return shown
