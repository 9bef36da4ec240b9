"""The Server Status panel's Protocol column and tooltip, from the capabilities the pool learned."""

from __future__ import annotations

from nuke_comfyui.core.comfy.capabilities import from_version
from nuke_comfyui.core.pool import ServerState, ServerStatus


def _status(name: str, version: str) -> ServerStatus:
    caps = from_version(name, version)
    state = ServerState.ONLINE if caps.supported else ServerState.ERROR
    return ServerStatus(name=name, url="http://127.0.0.1:1", state=state, comfyui_version=version,
                        capabilities=caps, error=caps.refusal)


def test_protocol_column_and_tooltip(qtbot):  # type: ignore[no-untyped-def]
    from nuke_comfyui.ui.qt import QtCore
    from nuke_comfyui.ui.status_model import COL_PROTOCOL, COLUMNS, ServerStatusModel

    model = ServerStatusModel()
    unknown = ServerStatus(name="fresh", url="http://127.0.0.1:2", state=ServerState.OFFLINE)
    model.set_statuses([_status("old", "0.3.40"), _status("new", "0.8.2"), _status("ancient", "0.3.2"), unknown])
    assert COLUMNS[COL_PROTOCOL] == "Protocol"
    display = QtCore.Qt.ItemDataRole.DisplayRole
    cells = [model.data(model.index(row, COL_PROTOCOL), display) for row in range(4)]
    assert cells == ["server-made prompt ids, untargeted interrupt, no jobs API", "full",
                     "refused (older than 0.3.40)", "-"]
    tip = model.data(model.index(0, 1), QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "ComfyUI 0.3.40" in tip and "cancel interrupts only when our own prompt is running" in tip
    refused_tip = model.data(model.index(2, 1), QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "0.3.2" in refused_tip and "0.3.40" in refused_tip
    assert "Protocol" not in model.data(model.index(1, 1), QtCore.Qt.ItemDataRole.ToolTipRole)


def test_test_connection_line_names_the_limits():
    from nuke_comfyui.ui.status_panel import describe_test

    line = describe_test("old", _status("old", "0.3.45"))
    assert "ComfyUI 0.3.45" in line and "protocol: untargeted interrupt, no jobs API" in line


def test_protocol_column_is_never_cut_off(qtbot):  # type: ignore[no-untyped-def]
    """The screenshot showed "untargeted interrupt, n...": the column now fits its longest text."""
    from nuke_comfyui.ui.status_model import COL_PROTOCOL
    from nuke_comfyui.ui.status_panel import ServerStatusPanel
    from tests.ui.fakes import FakePool

    statuses = [_status("old", "0.3.40"), _status("new", "0.8.2")]
    panel = ServerStatusPanel(FakePool(statuses), interval=5.0)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)
    panel.resize(900, 220)
    panel.show()
    qtbot.waitExposed(panel)
    longest = panel.model.index(0, COL_PROTOCOL).data()
    needed = panel.table.fontMetrics().horizontalAdvance(longest)
    assert panel.table.columnWidth(COL_PROTOCOL) >= needed
    panel.shutdown()
