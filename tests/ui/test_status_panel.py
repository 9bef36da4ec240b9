"""Server Status panel against a contract-following fake pool: rows, colours, toggles, test button."""

from __future__ import annotations

import threading

import pytest

from tests.ui.conftest import wait_until
from tests.ui.fakes import FakePool, FakeStatus

pytestmark = pytest.mark.qt


def _pool() -> FakePool:
    return FakePool(
        [
            FakeStatus("gpu-a", "http://127.0.0.1:8188", "online"),
            FakeStatus("gpu-b", "http://127.0.0.1:8189", "busy", queue_running=1, queue_pending=4),
            FakeStatus("cpu-c", "http://127.0.0.1:8190", "offline", cpu_only=True, vram_total=None,
                       vram_free=None, latency_ms=None, error="connection refused: start ComfyUI"),
        ]
    )


def _panel(qtbot, pool):
    from nuke_comfyui.ui.status_panel import ServerStatusPanel

    panel = ServerStatusPanel(pool, interval=0.2)
    qtbot.addWidget(panel)
    wait_until(lambda: panel.model.rowCount() == 3)
    return panel


def test_rows_show_every_column(qtbot):
    from nuke_comfyui.ui.qt import QtCore
    from nuke_comfyui.ui.status_model import (
        COL_ERROR,
        COL_LATENCY,
        COL_NAME,
        COL_QUEUE,
        COL_STATE,
        COL_VRAM,
        COLUMNS,
    )

    panel = _panel(qtbot, _pool())
    model = panel.model
    display = QtCore.Qt.ItemDataRole.DisplayRole
    assert model.index(0, COL_NAME).data(display) == "gpu-a"
    assert [model.index(row, COL_STATE).data(display) for row in range(3)] == ["online", "busy", "offline"]
    assert model.index(0, COL_STATE).data(QtCore.Qt.ItemDataRole.DecorationRole) is not None  # the dot beside it
    assert model.index(1, COL_QUEUE).data(display) == "1 running / 4 pending"
    assert model.index(2, COL_QUEUE).data(display) == "-"  # an offline server's queue is not known, not 0 / 0
    assert COLUMNS[COL_VRAM] == "VRAM used / total"
    assert model.index(0, COL_VRAM).data(display) == "4.0 / 24.0 GiB"  # binary units: 4 * 2**30 bytes
    assert model.index(2, COL_VRAM).data(display) == "CPU only"
    assert model.index(2, COL_LATENCY).data(display) == "-"
    assert model.index(2, COL_ERROR).data(display) == "connection refused: start ComfyUI"  # a column, not a tooltip
    from nuke_comfyui.core.pool import ServerState, ServerStatus

    refused = ServerStatus(name="gpu-d", url="http://10.0.0.9:8188", state=ServerState.OFFLINE, checked_at=1.0,
                           error="cannot reach http://10.0.0.9:8188 (connection refused); check that ComfyUI runs "
                                 "there and the host/port are right")
    model.update_status(refused)
    assert model.index(3, COL_ERROR).data(display) == "connection refused"  # the address has its own column
    assert model.index(0, COL_ERROR).data(display) == ""
    assert "connection refused" in model.index(2, COL_NAME).data(QtCore.Qt.ItemDataRole.ToolTipRole)
    # The panel paints without error on this binding (exercises the VRAM delegate and dots).
    panel.resize(900, 200)
    assert not panel.grab().isNull()


def test_status_pushed_from_poller_thread_updates_row(qtbot):
    from nuke_comfyui.ui.qt import QtCore
    from nuke_comfyui.ui.status_model import COL_QUEUE

    pool = _pool()
    panel = _panel(qtbot, pool)
    pool.push(FakeStatus("gpu-a", "http://127.0.0.1:8188", "busy", queue_running=2, queue_pending=7))
    wait_until(lambda: panel.model.index(0, COL_QUEUE).data(QtCore.Qt.ItemDataRole.DisplayRole)
               == "2 running / 7 pending")
    panel.shutdown()
    assert pool.subscriber_count == 0


def test_toggle_calls_set_enabled_off_the_gui_thread(qtbot):
    from nuke_comfyui.ui.qt import QtCore
    from nuke_comfyui.ui.status_model import COL_ENABLED

    pool = _pool()
    panel = _panel(qtbot, pool)
    index = panel.model.index(1, COL_ENABLED)
    assert panel.model.setData(index, QtCore.Qt.CheckState.Unchecked, QtCore.Qt.ItemDataRole.CheckStateRole)
    wait_until(lambda: ("set_enabled", "gpu-b", False) in pool.calls)
    wait_until(lambda: panel.model.status_named("gpu-b").state == "disabled")
    wait_until(lambda: panel.message.text() == "gpu-b disabled.")
    assert all(t is not threading.main_thread() for t in pool.threads)


def test_test_connection_button_reports_result(qtbot):
    from nuke_comfyui.ui.qt import QtCore

    pool = _pool()
    panel = _panel(qtbot, pool)
    panel.table.selectRow(2)
    qtbot.mouseClick(panel.test_button, QtCore.Qt.MouseButton.LeftButton)
    wait_until(lambda: ("test_connection", "cpu-c") in pool.calls and panel.test_button.isEnabled())
    assert "cpu-c: offline" in panel.message.text()
    assert "connection refused" in panel.message.text()


def test_a_stalled_server_shows_stalled_beside_its_dot_and_why_in_the_last_error_column(qtbot):
    """Issue 28 item 5: the scheduler's stall note on the pool's status (core/scheduler/stall_report.py)
    is a state text, an orange dot, the short reason in Last error and all of it in the tooltip; it
    goes when the note is cleared."""
    from nuke_comfyui.core.pool import ServerState, ServerStatus
    from nuke_comfyui.core.scheduler.stall_report import pool_note
    from nuke_comfyui.ui.palette import SERVER_STATE_COLORS
    from nuke_comfyui.ui.qt import QtCore
    from nuke_comfyui.ui.status_model import COL_ERROR, COL_NAME, COL_STATE

    pool = _pool()
    panel = _panel(qtbot, pool)
    model = panel.model
    display = QtCore.Qt.ItemDataRole.DisplayRole
    note = pool_note(42.4, at=0.0)
    stalled = ServerStatus(name="gpu-b", url="http://127.0.0.1:8189", state=ServerState.BUSY, queue_running=1,
                           checked_at=1.0, stalled=note)
    pool.push(stalled)
    wait_until(lambda: model.index(1, COL_STATE).data(display) == "stalled")
    error = model.index(1, COL_ERROR).data(display)
    assert error.startswith("stalled: no progress for 42 s on our prompt (at ") and error.endswith(")")
    assert note in model.index(1, COL_NAME).data(QtCore.Qt.ItemDataRole.ToolTipRole)
    icon = model.index(1, COL_STATE).data(QtCore.Qt.ItemDataRole.DecorationRole)
    color = dot_colour(icon)
    assert color == SERVER_STATE_COLORS["stalled"] != SERVER_STATE_COLORS["busy"]
    assert model.index(0, COL_STATE).data(display) == "online"  # the others are untouched

    from dataclasses import replace

    pool.push(replace(stalled, stalled=None))
    wait_until(lambda: model.index(1, COL_STATE).data(display) == "busy")
    assert model.index(1, COL_ERROR).data(display) == ""


def dot_colour(icon) -> str:
    """The colour of a state dot, read back from its pixels."""
    image = icon.pixmap(12, 12).toImage()
    return image.pixelColor(6, 6).name()
