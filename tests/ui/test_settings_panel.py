"""Settings panel: editing, validation messages under fields, read-only env servers, save round trip."""

from __future__ import annotations

import json
import sys

import pytest

from tests.ui.conftest import wait_until
from tests.ui.contract_config import config_modules, loaded_config

pytestmark = pytest.mark.qt


@pytest.fixture
def cfg(monkeypatch):
    config, loader, real = config_modules()
    if not real:
        monkeypatch.setitem(sys.modules, "nuke_comfyui.core.config", config)
        monkeypatch.setitem(sys.modules, "nuke_comfyui.core.config_loader", loader)
    return config, loader


def _panel(qtbot, cfg, tmp_path, tester=None):
    from nuke_comfyui.ui.settings_panel import SettingsPanel

    config, loader = cfg
    path = tmp_path / "servers.json"
    loaded = loaded_config(
        config, loader,
        [{"name": "gpu-a", "port": 8188, "auth": {"kind": "bearer", "token": "${COMFY_TOKEN}"}},
         {"name": "env-b", "host": "127.0.0.1", "port": 8189}],
        [f"file {path}", "NUKE_COMFYUI_IP_2"],
        str(path),
    )
    panel = SettingsPanel(loaded, tester=tester)
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    return panel, path


def _type(widget, text):
    widget.setText(text)
    widget.textEdited.emit(text)


def test_edit_add_reorder_and_save_round_trip(qtbot, cfg, tmp_path):
    panel, path = _panel(qtbot, cfg, tmp_path)
    assert panel.form.widgets["auth.token"].echoMode() == panel.form.widgets["auth.token"].EchoMode.Password
    _type(panel.form.widgets["host"], "127.0.0.2")
    panel.form.widgets["max_concurrent"].setValue(3)
    panel.add_server()
    _type(panel.form.widgets["name"], "gpu-c")
    panel.form.widgets["priority"].setValue(5)
    panel.select(2)
    panel.move_server(-1)  # gpu-c above env-b
    panel.poll_interval.setValue(1.5)
    assert [e["name"] for e in panel.entries()] == ["gpu-a", "gpu-c", "env-b"]
    assert panel.save_button.isEnabled()
    panel.save()
    wait_until(lambda: panel.message.text().startswith("Saved to"))

    data = json.loads(path.read_text())
    names = [s["name"] for s in data["servers"]]
    assert names == ["gpu-a", "gpu-c"]  # env-var servers are not written to the file
    assert data["servers"][0]["host"] == "127.0.0.2"
    assert data["servers"][0]["max_concurrent"] == 3
    assert data["servers"][0]["auth"]["token"] == "${COMFY_TOKEN}"  # reference kept, never expanded
    assert data["servers"][1]["priority"] == 5
    assert data["poll_interval"] == 1.5


def test_env_server_is_read_only_with_its_source(qtbot, cfg, tmp_path):
    panel, _ = _panel(qtbot, cfg, tmp_path)
    panel.select(1)
    assert "NUKE_COMFYUI_IP_2" in panel.form.source_label.text()
    assert not panel.form.widgets["host"].isEnabled()
    assert not panel.remove_button.isEnabled()
    assert "NUKE_COMFYUI_IP_2" in panel.server_list.item(1).text()


def test_invalid_input_shows_message_under_the_field(qtbot, cfg, tmp_path):
    panel, path = _panel(qtbot, cfg, tmp_path)
    panel.form.widgets["max_concurrent"].setValue(0)
    shown = panel.form.visible_errors()
    assert "max_concurrent" in shown and shown["max_concurrent"].startswith("max_concurrent:")
    assert panel.form.errors["max_concurrent"].isVisibleTo(panel)
    assert not panel.save_button.isEnabled()
    panel.save()
    assert "Not saved" in panel.message.text()
    assert not path.exists()

    panel.form.widgets["max_concurrent"].setValue(1)
    panel.form.widgets["transfer"].setCurrentIndex(panel.form.widgets["transfer"].findText("shared"))
    messages = " ".join(panel.form.visible_errors().values())
    assert "dir_local" in messages and "dir_remote" in messages
    _type(panel.form.widgets["dir_local"], "/mnt/comfy")
    _type(panel.form.widgets["dir_remote"], "/srv/comfy")
    assert panel.form.visible_errors() == {}
    assert panel.save_button.isEnabled()


def test_duplicate_and_remove(qtbot, cfg, tmp_path):
    panel, _ = _panel(qtbot, cfg, tmp_path)
    panel.select(0)
    panel.duplicate_server()
    assert [e["name"] for e in panel.entries()] == ["gpu-a", "gpu-a-copy", "env-b"]
    panel.remove_server()
    assert [e["name"] for e in panel.entries()] == ["gpu-a", "env-b"]


def test_connection_test_runs_in_worker(qtbot, cfg, tmp_path):
    import threading
    from types import SimpleNamespace

    seen = []

    def tester(server):
        seen.append((server.name, threading.current_thread()))
        return SimpleNamespace(name=server.name, state="online", latency_ms=3.0, comfyui_version="0.8.2",
                               error=None)

    panel, _ = _panel(qtbot, cfg, tmp_path, tester=tester)
    panel.select(0)
    panel.test_current()
    wait_until(lambda: "gpu-a: online" in panel.test_result.text())
    assert seen[0][0] == "gpu-a" and seen[0][1] is not threading.main_thread()
