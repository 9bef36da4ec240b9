"""init.py and menu.py never raise: not with a broken config, a missing dependency, or a broken host."""

from __future__ import annotations

import logging
import runpy
import sys
from pathlib import Path

import nuke
import nukescripts
import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(file: str) -> None:
    runpy.run_path(str(REPO / file), run_name="__main__")


def test_init_adds_paths_and_deps_folder(tmp_path, monkeypatch):
    from nuke_comfyui.core.deps_folder import current_deps_folder

    nuke._fake_reset(gui=False)
    deps = current_deps_folder(REPO)
    created = not deps.exists()
    deps.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        _run("init.py")
        assert sys.path[-1] == str(deps)  # appended: what is already importable wins
    finally:
        if created:
            deps.rmdir()
    assert str(REPO / "gizmos") in nuke.pluginPath()
    assert str(REPO / "icons") in nuke.pluginPath()
    assert nuke._fake_state().menus == {}, "init.py must not build UI"


def test_init_never_reads_the_server_settings(tmp_path, monkeypatch):
    """init.py runs on every farm render: the settings (pydantic) are loaded on first use only."""
    from nuke_comfyui.core import config_loader

    def refuse():
        raise AssertionError("init.py loaded the server settings")

    monkeypatch.setattr(config_loader, "load_config", refuse)
    _run("init.py")
    assert str(REPO / "gizmos") in nuke.pluginPath()


def test_init_in_a_fresh_interpreter_loads_no_heavy_package():
    from nuke_comfyui.bench.init_import import measure

    assert measure(runs=1)["heavy_imports"] == []


def test_a_broken_settings_file_is_reported_at_the_first_render(tmp_path, monkeypatch):
    bad = tmp_path / "servers.json"
    bad.write_text("{ this is not json")
    monkeypatch.setenv("NUKE_COMFYUI_CONFIG", str(bad))
    _run("init.py")
    node = nuke.createNode("ComfyRender")
    node["render_button"].execute()
    assert nuke._fake_state().messages and str(bad) in nuke._fake_state().messages[-1]


def test_init_with_missing_dependency_names_the_install_command(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "websocket", None)
    caplog.set_level(logging.WARNING)
    _run("init.py")
    assert "websocket-client" in caplog.text
    assert "nuke-comfyui install-deps --nuke /usr/local/Nuke15.1v3" in caplog.text
    assert str(REPO / "gizmos") in nuke.pluginPath()


def test_init_survives_a_broken_host_package(monkeypatch, caplog):
    from nuke_comfyui.host import startup

    def broken(root):
        raise ImportError("half-installed plugin")

    monkeypatch.setattr(startup, "run_init", broken)
    caplog.set_level(logging.ERROR)
    _run("init.py")
    assert "init.py failed" in caplog.text


def test_menu_builds_menu_toolbar_and_panels_without_qt(monkeypatch):
    for name in list(sys.modules):
        if name.startswith(("nuke_comfyui.ui", "PySide", "Qt")):
            monkeypatch.delitem(sys.modules, name)
    _run("menu.py")
    menu = nuke.menu("Nuke").menu("ComfyUI")
    assert menu is not None
    labels = [i.name() for i in menu.items()]
    for label in ("Comfy Render", "Render Selected", "Cancel Selected", "Retry Failed (Selected)",
                  "Server Status", "Settings", "Job Results"):
        assert label in labels
    tools = nuke.toolbar("Nodes").menu("ComfyUI")
    assert tools is not None and all(i.icon().endswith(".png") for i in tools.items())
    assert all((REPO / "icons" / i.icon()).is_file() for i in tools.items())
    panels = nukescripts.panels._fake_registered()
    assert {p.widget.rsplit(".", 1)[-1] for p in panels.values()} == {
        "ServerStatusPane", "SettingsPane", "JobResultsPane"}
    assert nuke.menu("Pane").findItem("ComfyUI Settings") is not None
    assert not any(n.startswith(("PySide", "Qt", "nuke_comfyui.ui")) for n in sys.modules), "Qt imported"
    assert nuke._fake_state().on_script_load, "re-attach hook registered"


def test_menu_command_creates_a_comfy_node():
    _run("menu.py")
    nuke.menu("Nuke").findItem("ComfyUI/Comfy Render").invoke()
    assert [n.Class() for n in nuke.allNodes()] == ["ComfyRender"]


def test_menu_never_raises_when_nuke_menus_fail(monkeypatch, caplog):
    def broken(name):
        raise RuntimeError("menu bar exploded")

    monkeypatch.setattr(nuke, "menu", broken)
    caplog.set_level(logging.ERROR)
    _run("menu.py")
    assert "menu bar exploded" in caplog.text
    assert "building the ComfyUI menu and toolbar failed" in caplog.text


def test_menu_survives_a_broken_host_package(monkeypatch, caplog):
    from nuke_comfyui.host import menu_setup

    def broken():
        raise ImportError("half-installed plugin")

    monkeypatch.setattr(menu_setup, "run_menu", broken)
    caplog.set_level(logging.ERROR)
    _run("menu.py")
    assert "menu.py failed" in caplog.text


def test_the_deps_folder_never_shadows_a_module_another_package_provides(tmp_path, monkeypatch):
    """A studio's NUKE_PATH package with its own copy of a module keeps it; ours only fills gaps."""
    import importlib.util

    from nuke_comfyui.core.deps_folder import current_deps_folder
    from nuke_comfyui.host.startup import add_dependency_path

    plugin = tmp_path / "plugin"
    deps = current_deps_folder(plugin)
    deps.mkdir(parents=True)
    other = tmp_path / "studio_package"
    other.mkdir()
    for folder in (deps, other):
        (folder / "nkc_shared_probe.py").write_text(f"WHO = {str(folder)!r}\n")
    (deps / "nkc_only_ours_probe.py").write_text("WHO = 'ours'\n")
    monkeypatch.setattr(sys, "path", [*sys.path, str(other)])
    assert add_dependency_path(str(plugin)) == str(deps)
    assert importlib.util.find_spec("nkc_shared_probe").origin == str(other / "nkc_shared_probe.py")
    assert importlib.util.find_spec("nkc_only_ours_probe").origin == str(deps / "nkc_only_ours_probe.py")


def test_a_farm_render_without_qt_py_logs_nothing_about_it(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "Qt", None)
    nuke._fake_reset(gui=False)
    caplog.set_level(logging.INFO)
    _run("init.py")
    assert "Qt.py" not in caplog.text and "disabled" not in caplog.text


def test_a_gui_session_without_qt_py_says_the_panels_are_off_not_rendering(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "Qt", None)
    caplog.set_level(logging.WARNING)
    _run("init.py")
    assert "Qt.py" in caplog.text and "panels are disabled (rendering works)" in caplog.text
    assert "Rendering is disabled" not in caplog.text


def test_a_pydantic_1_first_on_the_path_is_named_when_the_farm_starts(monkeypatch, tmp_path):
    import types

    from nuke_comfyui.core.errors import NukeComfyError
    from nuke_comfyui.host.session import check_pydantic

    old = types.ModuleType("pydantic")
    old.VERSION = "1.10.13"  # type: ignore[attr-defined]
    old.__file__ = str(tmp_path / "studio" / "pydantic" / "__init__.py")
    monkeypatch.setitem(sys.modules, "pydantic", old)
    with pytest.raises(NukeComfyError, match=r"pydantic 1\.10\.13 from .*studio.*needs pydantic 2"):
        check_pydantic()
