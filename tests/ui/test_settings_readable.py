"""The Settings panel reads whole in its screenshot: placeholders not cut, no band between fields,
and upload servers' path preview says they need no mapping (issue 25)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


def _loaded(tmp_path):  # type: ignore[no-untyped-def]
    from nuke_comfyui.core.config import ClusterConfig, ServerConfig
    from nuke_comfyui.core.config_loader import load_config, save_config

    servers = [ServerConfig(name="gpu-a", port=8188, transfer="shared", dir_local=str(tmp_path) + "/",
                            dir_remote="/home/render/ComfyUI/"), ServerConfig(name="gpu-b", port=8189)]
    save_config(ClusterConfig(servers=servers), tmp_path / "servers.json")
    return load_config(tmp_path / "servers.json", environ={})


def test_every_placeholder_fits_its_field(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    from nuke_comfyui.ui.qt import QtWidgets
    from nuke_comfyui.ui.settings_panel import SettingsPanel

    panel = SettingsPanel(_loaded(tmp_path))
    qtbot.addWidget(panel)
    panel.form.widgets["auth.kind"].setCurrentText("bearer")  # the token field shows too
    panel.resize(1000, 780)
    panel.show()
    qtbot.waitExposed(panel)
    edits = [e for e in panel.findChildren(QtWidgets.QLineEdit) if e.placeholderText() and e.isVisible()]
    assert len(edits) >= 5
    for edit in edits:
        assert edit.width() >= edit.fontMetrics().horizontalAdvance(edit.placeholderText()), edit.placeholderText()


def test_spare_height_goes_below_the_fields(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    from nuke_comfyui.ui.settings_panel import SettingsPanel

    panel = SettingsPanel(_loaded(tmp_path))
    qtbot.addWidget(panel)
    panel.resize(1000, 1400)  # far more height than the fields need
    panel.show()
    qtbot.waitExposed(panel)
    form = panel.form
    rows = form.rows
    gap = rows["host"].y() - rows["name"].y()  # one row's pitch
    assert gap > 0
    assert rows["name"].y() <= form.source_label.y() + form.source_label.height() + gap  # no band above the fields
    # the hidden token/username/password rows leave no band between Auth and Verify TLS (Qt 5's
    # QFormLayout keeps each hidden row's spacing; Qt 6.4 added setRowVisible, which drops it)
    kept = 0 if hasattr(form.form_layout, "setRowVisible") else 3 * form.form_layout.verticalSpacing()
    assert rows["verify_tls"].y() - rows["auth.kind"].y() <= gap * 1.3 + kept


def test_upload_servers_need_no_mapping_in_the_preview(tmp_path):  # type: ignore[no-untyped-def]
    from nuke_comfyui.core.config import ServerConfig
    from nuke_comfyui.ui.server_entries import remote_preview

    shared = ServerConfig(name="a", transfer="shared", dir_local=str(tmp_path) + "/", dir_remote="/srv/ComfyUI/")
    assert remote_preview(shared, str(tmp_path / "shots" / "p.png")) == "/srv/ComfyUI/shots/p.png"
    assert remote_preview(ServerConfig(name="b"), "/x/p.png").startswith("no mapping needed")
