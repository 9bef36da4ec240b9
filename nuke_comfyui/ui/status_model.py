"""The table model behind the Server Status panel: one row per server, built from `ServerStatus`.

Kept apart from the widget so the rows can be tested without a view and so the panel only wires
threads and buttons. The model is updated on the GUI thread only; it never talks to a server.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.ui.palette import dot_icon, server_color, state_value
from nuke_comfyui.ui.qt import QtCore, Signal, combine_flags, enum_int

Qt = QtCore.Qt

COLUMNS = ["On", "Server", "State", "Address", "Queue", "VRAM used / total", "Latency", "ComfyUI", "Protocol",
           "Our jobs", "Last error"]
(COL_ENABLED, COL_NAME, COL_STATE, COL_ADDRESS, COL_QUEUE, COL_VRAM, COL_LATENCY, COL_VERSION, COL_PROTOCOL,
 COL_OURS, COL_ERROR) = range(len(COLUMNS))
#: states whose queue was read (an offline, disabled or broken server's queue is unknown: "-")
QUEUE_KNOWN = ("online", "busy")

# Custom role: the delegate reads (used_bytes, total_bytes, cpu_only) from it.
VRAM_ROLE = int(Qt.ItemDataRole.UserRole) + 1
STATUS_ROLE = int(Qt.ItemDataRole.UserRole) + 2

_GIB = 1024.0**3  # binary units throughout: what nvidia-smi and ComfyUI's own numbers mean


def _role(role: Any) -> int:
    """Roles and check states arrive as ints or enum members depending on the binding: compare ints."""
    return enum_int(role)


def format_queue(status: Any) -> str:
    """'1 running / 4 pending' (everybody's jobs on that server, not only ours); '-' when not read."""
    if state_value(status.state) not in QUEUE_KNOWN:
        return "-"
    return f"{status.queue_running} running / {status.queue_pending} pending"


def format_vram(status: Any) -> str:
    """'5.1 / 24.0 GiB', 'CPU only' or '-' when unknown."""
    if status.cpu_only:
        return "CPU only"
    if not status.vram_total:
        return "-"
    used = status.vram_total - (status.vram_free or 0)
    return f"{used / _GIB:.1f} / {status.vram_total / _GIB:.1f} GiB"


def format_state(status: Any) -> str:
    """The state beside the dot: `stalled` while this process's scheduler holds the server stalled
    on a prompt of ours (it still answers, so its pool state stays online or busy)."""
    if getattr(status, "stalled", None) and state_value(status.state) in QUEUE_KNOWN:
        return "stalled"
    return state_value(status.state)


def format_error(status: Any) -> str:
    """The last error, short and on one line ('' while the server is fine): `connection refused`
    rather than the address again (it has its own column), or the stall (`stalled: no progress for
    42 s on our prompt (at 14:03:12)`); the whole text is the row's tooltip."""
    stalled = getattr(status, "stalled", None)
    if stalled and state_value(status.state) in QUEUE_KNOWN:
        return str(stalled).split("; ", 1)[0]
    if not status.error or state_value(status.state) in QUEUE_KNOWN:
        return ""
    from nuke_comfyui.core.pool.reachability import short_error

    return short_error(" ".join(str(status.error).split()))


def format_latency(status: Any) -> str:
    return "-" if status.latency_ms is None else f"{status.latency_ms:.0f} ms"


def format_protocol(status: Any) -> str:
    """What the server's ComfyUI release can do: 'full', its limitations, or '-' before it answered."""
    caps = getattr(status, "capabilities", None)
    return "-" if caps is None else str(caps.summary())


def tooltip(status: Any) -> str:
    """State, protocol limitations and the last error, shown on every cell of the row."""
    text = f"{status.name}: {format_state(status)}"
    caps = getattr(status, "capabilities", None)
    if caps is not None and caps.supported and caps.limitations():
        text += f"\nComfyUI {caps.version or '(version not reported)'}: {', '.join(caps.limitations())}"
        if not caps.targeted_interrupt:
            text += "; cancel interrupts only when our own prompt is running"
    stalled = getattr(status, "stalled", None)
    if stalled and state_value(status.state) in QUEUE_KNOWN:
        text += f"\n{stalled}"
    elif status.error:
        text += f"\nLast error: {status.error}"
    return text


class ServerStatusModel(QtCore.QAbstractTableModel):
    """Rows of `ServerStatus`; ticking the "On" box asks (via `enable_requested`) to toggle a server."""

    enable_requested = Signal(str, bool)

    def __init__(self, parent: Optional[QtCore.QObject] = None) -> None:
        super().__init__(parent)
        self._rows: List[Any] = []
        self._index: Dict[str, int] = {}
        self._ours: Dict[str, Tuple[str, str]] = {}  # server -> (our prompts there, tooltip)

    # -- updates (GUI thread) ---------------------------------------------------------------
    def set_statuses(self, statuses: Sequence[Any]) -> None:
        """Replace every row, keeping the pool's order."""
        self.beginResetModel()
        self._rows = list(statuses)
        self._index = {s.name: i for i, s in enumerate(self._rows)}
        self.endResetModel()

    def update_status(self, status: Any) -> None:
        """Update one server's row in place (or append a server the model has not seen)."""
        row = self._index.get(status.name)
        if row is None:
            row = len(self._rows)
            self.beginInsertRows(QtCore.QModelIndex(), row, row)
            self._rows.append(status)
            self._index[status.name] = row
            self.endInsertRows()
            return
        self._rows[row] = status
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def set_ours(self, ours: Dict[str, Tuple[str, str]]) -> None:
        """Which of our prompts each server holds (our_prompts.py); servers not named hold none."""
        if ours == self._ours:
            return
        self._ours = dict(ours)
        if self._rows:
            self.dataChanged.emit(self.index(0, COL_OURS), self.index(len(self._rows) - 1, COL_OURS))

    def ours(self, name: str) -> str:
        return self._ours.get(name, ("", ""))[0]

    def status_at(self, row: int) -> Optional[Any]:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def status_named(self, name: str) -> Optional[Any]:
        row = self._index.get(name)
        return None if row is None else self._rows[row]

    # -- QAbstractTableModel ----------------------------------------------------------------
    def rowCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Any, role: Any = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and _role(role) == int(Qt.ItemDataRole.DisplayRole):
            return COLUMNS[section]
        return None

    def flags(self, index: QtCore.QModelIndex) -> Any:
        if index.column() == COL_ENABLED:
            return combine_flags(
                Qt.ItemFlag.ItemIsEnabled, Qt.ItemFlag.ItemIsSelectable, Qt.ItemFlag.ItemIsUserCheckable
            )
        return combine_flags(Qt.ItemFlag.ItemIsEnabled, Qt.ItemFlag.ItemIsSelectable)

    def data(self, index: QtCore.QModelIndex, role: Any = Qt.ItemDataRole.DisplayRole) -> Any:
        status = self.status_at(index.row())
        if status is None:
            return None
        role = _role(role)
        column = index.column()
        if role == int(Qt.ItemDataRole.DisplayRole):
            if column == COL_OURS:
                return self._ours.get(status.name, ("", ""))[0] or "-"
            return self._display(status, column)
        if role == int(Qt.ItemDataRole.DecorationRole) and column == COL_STATE:
            return dot_icon(server_color(format_state(status)))
        if role == int(Qt.ItemDataRole.CheckStateRole) and column == COL_ENABLED:
            return Qt.CheckState.Checked if status.enabled else Qt.CheckState.Unchecked
        if role == int(Qt.ItemDataRole.ToolTipRole):
            if column == COL_OURS and self._ours.get(status.name, ("", ""))[1]:
                return self._ours[status.name][1]
            return tooltip(status)
        if role == VRAM_ROLE and column == COL_VRAM:
            used = None if not status.vram_total else status.vram_total - (status.vram_free or 0)
            return (used, status.vram_total, bool(status.cpu_only))
        if role == STATUS_ROLE:
            return status
        return None

    def setData(self, index: QtCore.QModelIndex, value: Any, role: Any = Qt.ItemDataRole.EditRole) -> bool:
        if index.column() != COL_ENABLED or _role(role) != int(Qt.ItemDataRole.CheckStateRole):
            return False
        status = self.status_at(index.row())
        if status is None:
            return False
        checked = _role(value) == _role(Qt.CheckState.Checked)
        self.enable_requested.emit(status.name, checked)
        return True

    @staticmethod
    def _display(status: Any, column: int) -> Optional[str]:
        if column == COL_NAME:
            return str(status.name)
        if column == COL_STATE:
            return format_state(status)
        if column == COL_ADDRESS:
            return str(status.url)
        if column == COL_QUEUE:
            return format_queue(status)
        if column == COL_VRAM:
            return format_vram(status)
        if column == COL_LATENCY:
            return format_latency(status)
        if column == COL_VERSION:
            return status.comfyui_version or "-"
        if column == COL_PROTOCOL:
            return format_protocol(status)
        if column == COL_ERROR:
            return format_error(status)
        return None
