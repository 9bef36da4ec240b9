"""The Settings panel's "Workflows folder": panel -> saved JSON -> loader -> the node's pick list.

The variable NUKE_COMFYUI_WORKFLOWS wins over the file (env.py precedence); the panel then shows
its value read-only and Save keeps the file's own value.
"""

from __future__ import annotations

import json

import pytest

from tests.ui.conftest import wait_until

pytestmark = pytest.mark.qt


def _studio(tmp_path):
    studio = tmp_path / "studio"
    studio.mkdir()
    for name in ("b_paint.json", "a_plate.json", "a_plate.nkc.json"):  # the sidecar is not a workflow
        (studio / name).write_text("{}")
    return studio


def test_folder_typed_in_the_panel_fills_the_pick_list(qtbot, tmp_path, monkeypatch):
    from nuke_comfyui.core.config_loader import load_config
    from nuke_comfyui.core.studio_workflows import list_workflows, studio_folder
    from nuke_comfyui.ui.settings_panel import SettingsPanel

    path = tmp_path / "servers.json"
    monkeypatch.setenv("NUKE_COMFYUI_CONFIG", str(path))
    studio = _studio(tmp_path)
    panel = SettingsPanel(load_config())
    qtbot.addWidget(panel)
    assert panel.workflows_folder.isEnabled() and panel.workflows_folder.text() == ""
    panel.workflows_folder.setText(f"  {studio}  ")
    assert panel.save_button.isEnabled()
    panel.save()
    wait_until(lambda: panel.message.text().startswith("Saved to"))
    assert json.loads(path.read_text())["workflows_folder"] == str(studio)
    loaded = load_config()
    assert loaded.cluster.workflows_folder == str(studio)
    assert [p.rsplit("/", 1)[-1] for p in list_workflows(studio_folder())] == ["a_plate.json", "b_paint.json"]


def test_the_variable_wins_and_save_keeps_the_files_value(qtbot, tmp_path, monkeypatch):
    from nuke_comfyui.core.config_loader import load_config
    from nuke_comfyui.core.studio_workflows import studio_folder
    from nuke_comfyui.ui.settings_panel import SettingsPanel

    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"workflows_folder": "/studio/file_folder", "retries": 4}))
    monkeypatch.setenv("NUKE_COMFYUI_CONFIG", str(path))
    monkeypatch.setenv("NUKE_COMFYUI_WORKFLOWS", str(tmp_path / "from_env"))
    loaded = load_config()
    assert studio_folder() == str(tmp_path / "from_env") == loaded.cluster.workflows_folder
    panel = SettingsPanel(loaded)
    qtbot.addWidget(panel)
    assert panel.workflows_folder.text() == str(tmp_path / "from_env")
    assert not panel.workflows_folder.isEnabled()
    assert "NUKE_COMFYUI_WORKFLOWS" in panel.cluster_form.workflows_source.text()
    panel.retries.setValue(5)
    panel.save()
    wait_until(lambda: panel.message.text().startswith("Saved to"))
    data = json.loads(path.read_text())
    assert data["workflows_folder"] == "/studio/file_folder" and data["retries"] == 5
    monkeypatch.delenv("NUKE_COMFYUI_WORKFLOWS")
    assert studio_folder() == "/studio/file_folder"


def test_a_folder_that_is_not_text_is_refused_by_name():
    from nuke_comfyui.core.config import ClusterConfig

    assert ClusterConfig(workflows_folder="  ").workflows_folder is None
    with pytest.raises(ValueError, match="workflows_folder must be a folder path"):
        ClusterConfig(workflows_folder=3)
