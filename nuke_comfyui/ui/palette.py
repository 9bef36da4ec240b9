"""State colours shared by every panel, so "failed" or "offline" look the same everywhere.

Keys are the string values of `ServerState` and `JobState` (both are `str` enums), so this module
needs no import from core and the colours stay in one readable table.
"""

from __future__ import annotations

from typing import Dict

from nuke_comfyui.ui.qt import QtCore, QtGui

SERVER_STATE_COLORS: Dict[str, str] = {
    "online": "#3cb371",  # green
    "busy": "#e6c229",  # yellow
    "offline": "#d9534f",  # red
    "disabled": "#8c8c8c",  # grey
    "error": "#d05ce3",  # magenta: reachable but misbehaving (auth, protocol)
    "stalled": "#e8843c",  # orange: answers, but a prompt of ours made no progress there (not a pool state)
}

JOB_STATE_COLORS: Dict[str, str] = {
    "queued": "#6c757d",
    "blocked": "#6c757d",
    "dispatched": "#5b8def",
    "running": "#e6c229",
    "completed": "#3cb371",
    "failed": "#d9534f",
    "timeout": "#e8843c",
    "cancelled": "#8c8c8c",
}

UNKNOWN_COLOR = "#555555"


def state_value(state: object) -> str:
    """`ServerState.ONLINE` / `JobState.FAILED` / "online" -> "online" (enum value or plain string)."""
    return str(getattr(state, "value", state)).lower()


def server_color(state: object) -> QtGui.QColor:
    """The dot colour of a server state."""
    return QtGui.QColor(SERVER_STATE_COLORS.get(state_value(state), UNKNOWN_COLOR))


def job_color(state: object) -> QtGui.QColor:
    """The tile/strip colour of a job state."""
    return QtGui.QColor(JOB_STATE_COLORS.get(state_value(state), UNKNOWN_COLOR))


_DOT_CACHE: Dict[str, QtGui.QIcon] = {}


def dot_icon(color: QtGui.QColor, size: int = 12) -> QtGui.QIcon:
    """A filled circle icon (created on the GUI thread on first use, then cached)."""
    key = f"{color.name()}:{size}"
    icon = _DOT_CACHE.get(key)
    if icon is None:
        pixmap = QtGui.QPixmap(size, size)
        pixmap.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(pixmap)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawEllipse(1, 1, size - 2, size - 2)
        painter.end()
        icon = QtGui.QIcon(pixmap)
        _DOT_CACHE[key] = icon
    return icon
