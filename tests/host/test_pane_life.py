"""Docked panes in Nuke: hidden and shown tabs, a closed tab's widget destroyed, a broken settings file.

Fake nukescripts behaviour relied on (tests/host/fake_nuke/nukescripts/panels.py, after Foundry's
nukescripts/panels.py: a PythonPanel's widget "still exists, i.e. has not been closed by the user"):
a docked widget is shown in its pane, hidden when another tab is in front, and destroyed when its
tab is closed, with no closeEvent.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Callable, List

import nuke
import nukescripts
import pytest
from Qt import QtCompat

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.host.menu_setup import register_panels
from nuke_comfyui.host.session import HostSession, set_session
from nuke_comfyui.ui.qt import QtCore

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytestmark = [pytest.mark.integration, pytest.mark.qt]


class Counting:
    """Wraps a subscribe method: how many subscribers are live, and the callbacks handed over."""

    def __init__(self, subscribe: Callable[[Any], Callable[[], None]]) -> None:
        self._subscribe = subscribe
        self.live = 0
        self.callbacks: List[Any] = []

    def __call__(self, callback: Any) -> Callable[[], None]:
        self.live += 1
        self.callbacks.append(callback)
        unsubscribe = self._subscribe(callback)

        def off() -> None:
            self.live -= 1
            unsubscribe()

        return off


@pytest.fixture()
def farm(sim_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    cluster = sim_cluster(1)
    config = ClusterConfig(servers=[ServerConfig(name="gpu1", port=cluster.ports[0])], poll_interval=0.1)
    farm = Farm.from_config(config, journal_path=tmp_path / "journal.sqlite").start()
    monkeypatch.setattr(farm.pool, "subscribe", Counting(farm.pool.subscribe))
    monkeypatch.setattr(farm.scheduler, "subscribe", Counting(farm.scheduler.subscribe))
    set_session(HostSession(farm))
    register_panels()
    return farm


def _open(title: str) -> Any:
    nuke.menu("Pane").findItem(title).invoke()
    return nukescripts.panels._opened[-1]


@pytest.mark.parametrize("title, source", [("ComfyUI Server Status", "pool"), ("ComfyUI Job Results", "scheduler")])
def test_a_pane_listens_only_while_shown_and_each_reopen_adds_one_subscriber(qapp: Any, farm: Any, title: str,
                                                                              source: str, caplog: Any) -> None:
    counter = getattr(farm, source).subscribe
    pane = _open(title)
    assert counter.live == 1
    pane._fake_hide_tab()
    assert counter.live == 0
    pane._fake_show_tab()
    pane._fake_show_tab()
    assert counter.live == 1
    delivered = counter.callbacks[-1]
    widget = pane.widgets[-1]
    pane._fake_close_tab()  # the widget is destroyed; closeEvent is never called
    assert counter.live == 0 and not QtCompat.isValid(widget)
    caplog.set_level(logging.ERROR)
    delivered(object())  # a delivery racing the deletion is swallowed, never a RuntimeError in a worker
    assert "Internal C++ object" not in caplog.text
    _open(title)
    assert counter.live == 1


def test_a_pane_destroyed_while_shown_unsubscribes_without_touching_the_widget(qapp: Any, farm: Any) -> None:
    """Not every way a widget dies goes through a hide event first (a floating pane's window closed)."""
    counter = farm.pool.subscribe
    widget = _open("ComfyUI Server Status").widgets[-1]
    assert counter.live == 1
    widget.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    assert not QtCompat.isValid(widget) and counter.live == 0


def _broken_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "servers.json"
    path.write_text(text)
    monkeypatch.setenv("NUKE_COMFYUI_CONFIG", str(path))
    monkeypatch.delenv("NUKE_COMFYUI_SERVERS", raising=False)
    set_session(None)
    register_panels()
    return path


def test_the_settings_pane_opens_on_a_broken_file_shows_the_line_and_fixes_it(qapp: Any, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = _broken_settings(tmp_path, monkeypatch, '{\n "servers": [\n  {"name": "gpu1", "port": 8188,}\n ]\n}\n')
    widget = _open("ComfyUI Settings").widgets[-1]
    assert widget.panel is None and widget.broken is not None
    assert f"{path}, line 3" in widget.broken.message.text()
    assert widget.broken.editor.textCursor().blockNumber() == 2  # the cursor is on the faulty line
    widget.broken.editor.setPlainText('{"servers": [{"name": "gpu1", "port": 8188}]}')
    widget.broken.save_and_load()
    assert widget.panel is not None and widget.broken is None
    assert json.loads(path.read_text()) == {"servers": [{"name": "gpu1", "port": 8188}]}


def test_a_value_the_models_refuse_is_located_too(qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _broken_settings(tmp_path, monkeypatch, json.dumps(
        {"servers": [{"name": "gpu1"}, {"name": "gpu2", "port": "80a"}]}, indent=1))
    widget = _open("ComfyUI Settings").widgets[-1]
    line = path.read_text().splitlines().index('   "port": "80a"') + 1
    assert f"line {line}" in widget.broken.message.text() and "port" in widget.broken.message.text()
    path.write_text(json.dumps({"servers": [{"name": "gpu1"}]}))
    widget.broken.load_again()  # fixed in another editor
    assert widget.panel is not None
