"""Server Status panel: the live health of every ComfyUI server, for artists and TDs.

The pool probes servers on its own poller thread. This panel listens two ways, neither of which
touches a widget off the GUI thread: the pool's `subscribe` callback is re-emitted as a Qt signal
(queued onto the GUI thread), and a timer at the pool's poll interval reads `pool.statuses()` in a
QThreadPool worker as a safety net. Enable/disable and "Test connection" also run in workers.
With a scheduler, the same timer reads which of our prompts each server holds ("Our jobs").
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nuke_comfyui.ui.background import run_in_background
from nuke_comfyui.ui.our_prompts import ours_by_server
from nuke_comfyui.ui.pane_life import Subscription
from nuke_comfyui.ui.qt import QtCore, QtGui, QtWidgets, Signal
from nuke_comfyui.ui.status_model import (
    COL_ERROR,
    COL_NAME,
    COL_VRAM,
    VRAM_ROLE,
    ServerStatusModel,
)

log = logging.getLogger(__name__)
Qt = QtCore.Qt


def pool_interval(pool: Any, default: float = 2.0) -> float:
    """The pool's poll interval in seconds, wherever the pool keeps its cluster settings."""
    for attr in ("cluster", "config", "_cluster"):
        cluster = getattr(pool, attr, None)
        interval = getattr(cluster, "poll_interval", None)
        if isinstance(interval, (int, float)) and interval > 0:
            return float(interval)
    return default


def describe_test(name: str, result: Any) -> str:
    """One line for a test-connection result (a `ServerStatus`, or anything with a state)."""
    state = getattr(getattr(result, "state", None), "value", getattr(result, "state", None))
    parts = [f"{name}: {state or 'reachable'}"]
    latency = getattr(result, "latency_ms", None)
    if latency is not None:
        parts.append(f"{latency:.0f} ms")
    version = getattr(result, "comfyui_version", None)
    if version:
        parts.append(f"ComfyUI {version}")
    caps = getattr(result, "capabilities", None)
    if caps is not None and caps.supported:
        parts.append(f"protocol: {caps.summary()}")
    error = getattr(result, "error", None)
    if error:
        parts.append(f"error: {error}")
    return ", ".join(parts)


class VramBarDelegate(QtWidgets.QStyledItemDelegate):
    """Paints VRAM use as a bar with its text on top; CPU-only servers get a grey 'CPU only' label."""

    def paint(self, painter: QtGui.QPainter, option: Any, index: QtCore.QModelIndex) -> None:
        value = index.data(VRAM_ROLE)
        if not value:
            super().paint(painter, option, index)
            return
        used, total, cpu_only = value
        rect = option.rect.adjusted(3, 4, -3, -4)
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(QtGui.QColor("#444444"))
        painter.setBrush(QtGui.QColor("#262626"))
        painter.drawRoundedRect(rect, 3, 3)
        if not cpu_only and total:
            fraction = max(0.0, min(1.0, float(used or 0) / float(total)))
            fill = QtCore.QRect(rect)
            fill.setWidth(int(rect.width() * fraction))
            color = QtGui.QColor("#5b8def" if fraction < 0.85 else "#e8843c")
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(fill, 3, 3)
        painter.setPen(QtGui.QColor("#9a9a9a" if cpu_only else "#f0f0f0"))
        painter.drawText(
            QtCore.QRectF(rect),
            str(index.data(Qt.ItemDataRole.DisplayRole)),
            QtGui.QTextOption(Qt.AlignmentFlag.AlignCenter),
        )
        painter.restore()

    def sizeHint(self, option: Any, index: QtCore.QModelIndex) -> QtCore.QSize:
        hint = super().sizeHint(option, index)
        return QtCore.QSize(max(hint.width(), 140), hint.height())


class _PoolBridge(QtCore.QObject):
    """Turns the pool's poller-thread callbacks into a signal delivered on the GUI thread."""

    status_changed = Signal(object)


class ServerStatusPanel(QtWidgets.QWidget):
    """Live server table with enable toggles and a "Test connection" button.

    `pool` is a `ServerPool` (anything with statuses/subscribe/set_enabled/servers/test_connection).
    `interval` overrides the refresh period (seconds); by default the pool's poll interval is used.
    """

    statuses_refreshed = Signal()
    message_changed = Signal(str)

    def __init__(self, pool: Any, parent: Optional[QtWidgets.QWidget] = None,
                 interval: Optional[float] = None, scheduler: Optional[Any] = None) -> None:
        super().__init__(parent)
        self.setObjectName("ServerStatusPanel")
        self.setWindowTitle("ComfyUI Servers")
        self._pool = pool
        self._scheduler = scheduler  # for "Our jobs": prompts_by_server() and its live board
        self._refresh_in_flight = False
        self._ours_in_flight = False

        self.model = ServerStatusModel(self)
        self.model.enable_requested.connect(self.set_server_enabled)
        self.table = self._build_table()
        self.test_button = QtWidgets.QPushButton("Test connection")
        self.test_button.setToolTip("Probe the selected server now (runs in the background)")
        self.test_button.clicked.connect(self.test_selected)
        self.refresh_button = QtWidgets.QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout()

        self._bridge = _PoolBridge()  # no parent: the subscription keeps it (pane_life.py says why)
        self._bridge.status_changed.connect(self.model.update_status)
        self._bridge.status_changed.connect(self._status_arrived)  # a bound slot: Qt drops it with the panel
        self.subscription = Subscription(pool.subscribe, self._bridge.status_changed.emit, keep=self._bridge)
        self.subscription.start()

        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(int(1000 * (interval or pool_interval(pool))))
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    # -- layout ------------------------------------------------------------------------------
    def _build_table(self) -> QtWidgets.QTableView:
        table = QtWidgets.QTableView(self)
        table.setModel(self.model)
        table.setItemDelegateForColumn(COL_VRAM, VramBarDelegate(table))
        table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().setVisible(False)
        table.setAlternatingRowColors(True)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)  # the last error takes what is left, elided (tooltip: all of it)
        for column in range(COL_ERROR):  # every other column shows its whole text, Protocol included
            if column != COL_VRAM:
                header.setSectionResizeMode(column, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        table.setWordWrap(False)
        table.setColumnWidth(COL_VRAM, 150)
        return table

    def _layout(self) -> None:
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    # -- actions -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the pool's statuses in a worker and show them (skipped while one is in flight)."""
        if self._refresh_in_flight:
            return
        self._refresh_in_flight = True
        run_in_background(self._pool.statuses, self._on_statuses, self._on_refresh_error, owner=self)
        if self._scheduler is not None and not self._ours_in_flight:
            self._ours_in_flight = True
            run_in_background(self._read_ours, self._on_ours, self._on_ours_error, owner=self)

    def _status_arrived(self, _status: object) -> None:
        self.statuses_refreshed.emit()

    def set_server_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable a server without blocking the GUI; the table follows the pool."""
        self._show(f"{'Enabling' if enabled else 'Disabling'} {name}...")
        run_in_background(
            lambda: self._pool.set_enabled(name, enabled),
            lambda _result: self._after_toggle(name, enabled),
            lambda exc: self._show(f"Could not change {name}: {exc}"),
            owner=self,
        )

    def selected_server(self) -> Optional[str]:
        rows = self.table.selectionModel().selectedRows(COL_NAME)
        if not rows:
            return None
        status = self.model.status_at(rows[0].row())
        return None if status is None else str(status.name)

    def test_selected(self) -> None:
        """Probe the selected server (or the first one) with `pool.test_connection` in a worker."""
        name = self.selected_server()
        if name is None and self.model.rowCount() > 0:
            name = str(self.model.status_at(0).name)
        if name is None:
            self._show("No server to test: add one in the settings panel.")
            return
        self.test_button.setEnabled(False)
        self._show(f"Testing {name}...")
        run_in_background(
            lambda: self._test(name),
            lambda result: self._after_test(name, result),
            lambda exc: self._after_test_error(name, exc),
            owner=self,
        )

    def shutdown(self) -> None:
        """Stop listening to the pool (hidden or dropped; closeEvent does it too; ui/pane_life in Nuke)."""
        self.timer.stop()
        self.subscription.stop()

    def resume(self) -> None:
        """Listen again after shutdown (the pane shown again), with a fresh read of every status."""
        self.subscription.start()
        if not self.timer.isActive():
            self.timer.start()
            self.refresh()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # -- worker-side helpers (run off the GUI thread) -----------------------------------------
    def _test(self, name: str) -> Any:
        config = next((s for s in self._pool.servers() if s.name == name), None)
        if config is None:
            raise LookupError(f"server {name!r} is no longer configured; refresh the panel")
        return self._pool.test_connection(config)

    def _read_ours(self) -> Any:
        board = getattr(self._scheduler, "live", None)
        return ours_by_server(self._scheduler.prompts_by_server(), board.statuses() if board is not None else [])

    # -- GUI-thread callbacks ------------------------------------------------------------------
    def _on_ours(self, ours: Any) -> None:
        self._ours_in_flight = False
        self.model.set_ours(ours)

    def _on_ours_error(self, exc: BaseException) -> None:
        self._ours_in_flight = False
        log.debug("could not read our prompts per server: %s", exc)

    def _on_statuses(self, statuses: Any) -> None:
        self._refresh_in_flight = False
        if [s.name for s in statuses] == [self.model.status_at(i).name for i in range(self.model.rowCount())]:
            for status in statuses:
                self.model.update_status(status)
        else:
            self.model.set_statuses(statuses)
        self.statuses_refreshed.emit()

    def _on_refresh_error(self, exc: BaseException) -> None:
        self._refresh_in_flight = False
        self._show(f"Could not read server statuses: {exc}")

    def _after_toggle(self, name: str, enabled: bool) -> None:
        self._show(f"{name} {'enabled' if enabled else 'disabled'}.")
        self._refresh_in_flight = False
        self.refresh()

    def _after_test(self, name: str, result: Any) -> None:
        self.test_button.setEnabled(True)
        self._show(describe_test(name, result))

    def _after_test_error(self, name: str, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self._show(f"{name}: connection test failed: {exc}")

    def _show(self, text: str) -> None:
        self.message.setText(text)
        self.message_changed.emit(text)
