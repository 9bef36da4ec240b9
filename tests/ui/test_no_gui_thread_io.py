"""The rule "no network or disk I/O on the GUI thread", proven: while every panel refreshes, tests
connections, loads thumbnails and saves settings against the simulator, any socket connect, HTTP
request, file open or rename made from the main (GUI) thread is recorded as a violation."""

from __future__ import annotations

import builtins
import io
import os
import socket
import sys
import threading
import time
import traceback
from dataclasses import replace
from typing import Any, Callable, List

import pytest
import requests

from tests.ui.conftest import wait_until
from tests.ui.contract_config import config_modules, loaded_config
from tests.ui.fakes import FakeScheduler, FakeSequence, FakeStatus

pytestmark = pytest.mark.qt


class _SimPool:
    """Pool-contract poller over HTTP, used only while core/pool is not in the checkout."""

    def __init__(self, urls: List[str], interval: float = 0.05) -> None:
        self.urls = {f"sim{i}": url for i, url in enumerate(urls)}
        self.enabled = dict.fromkeys(self.urls, True)
        self._subs: List[Callable[[Any], None]] = []
        self._latest = {n: FakeStatus(n, u, "offline") for n, u in self.urls.items()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self.polls = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _probe(self, name: str) -> FakeStatus:
        if not self.enabled[name]:
            return replace(self._latest[name], state="disabled", enabled=False)
        try:
            answer = requests.get(f"{self.urls[name]}/prompt", timeout=2).json()
            pending = answer["exec_info"]["queue_remaining"]
            return FakeStatus(name, self.urls[name], "busy" if pending else "online", queue_pending=pending)
        except (requests.RequestException, ValueError, KeyError) as exc:
            return FakeStatus(name, self.urls[name], "offline", error=str(exc))

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            for name in self.urls:
                self._latest[name] = status = self._probe(name)
                for callback in list(self._subs):
                    callback(status)
            self.polls += 1
            self._stop.wait(interval)

    def statuses(self) -> List[FakeStatus]:
        return list(self._latest.values())

    def servers(self) -> List[Any]:
        return [type("S", (), {"name": n})() for n in self.urls]

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        self._subs.append(callback)
        return lambda: self._subs.remove(callback)

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.enabled[name] = enabled

    def test_connection(self, server: Any) -> FakeStatus:
        return self._probe(server.name)


class _Guard:
    """Wraps I/O entry points; calls from the main thread are recorded (with where they came from)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.violations: List[str] = []
        self._mp = monkeypatch

    def install(self) -> None:
        self._wrap(requests.Session, "request")
        from nuke_comfyui.core.comfy.transport import Transport  # ComfyClient's calls (keep-alive: no connect)

        self._wrap(Transport, "request")
        self._wrap(socket.socket, "connect")
        self._wrap(builtins, "open")
        self._wrap(io, "open")
        self._wrap(os, "replace")
        self._wrap(os, "rename")

    def _wrap(self, owner: Any, name: str) -> None:
        original = getattr(owner, name)
        guard = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is threading.main_thread():
                where = "".join(traceback.format_stack(limit=8))
                guard.violations.append(f"{name} on the GUI thread:\n{where}")
            return original(*args, **kwargs)

        self._mp.setattr(owner, name, wrapper)


def _pool_for(cluster: Any) -> Any:
    try:
        from nuke_comfyui.core.pool import ServerPool  # noqa: F401  (the real pool once it exists)
    except ImportError:
        return _SimPool(cluster.urls)
    config, _loader, _real = config_modules()
    servers = [config.ServerConfig(name=f"sim{i}", port=port) for i, port in enumerate(cluster.ports)]
    from nuke_comfyui.core.pool import ServerPool as RealPool

    return RealPool(config.ClusterConfig(servers=servers, poll_interval=0.05, stats_interval=0.1))


def test_panels_do_no_io_on_the_gui_thread(qtbot, sim_cluster, tmp_path, monkeypatch):
    from nuke_comfyui.ui.qt import QtGui
    from nuke_comfyui.ui.results_model import THUMB_ROLE
    from nuke_comfyui.ui.results_panel import JobResultsPanel
    from nuke_comfyui.ui.settings_panel import SettingsPanel
    from nuke_comfyui.ui.status_panel import ServerStatusPanel

    config, loader, real = config_modules()
    if not real:
        monkeypatch.setitem(sys.modules, "nuke_comfyui.core.config", config)
        monkeypatch.setitem(sys.modules, "nuke_comfyui.core.config_loader", loader)
    cluster = sim_cluster(2)
    pool = _pool_for(cluster)
    pool.start()
    images = []
    for i in range(3):
        image = QtGui.QImage(40, 30, QtGui.QImage.Format.Format_RGB32)
        image.fill(QtGui.QColor("#3366aa"))
        image.save(str(tmp_path / f"out{i}.png"))
        images.append(str(tmp_path / f"out{i}.png"))
    settings_path = tmp_path / "servers.json"
    loaded = loaded_config(config, loader, [{"name": "sim0", "port": cluster.ports[0]}],
                           [f"file {settings_path}"], str(settings_path))
    scheduler = FakeScheduler(frames=3, variations=1)
    scheduler.sequences = [FakeSequence(0, 100, "7", str(tmp_path / "out%d.png"), 0, 2, [0], ["sim0"])]

    guard = _Guard(monkeypatch)
    guard.install()
    try:
        status = ServerStatusPanel(pool, interval=0.05)
        results = JobResultsPanel(scheduler)
        settings = SettingsPanel(loaded, tester=pool.test_connection)
        for widget in (status, results, settings):
            qtbot.addWidget(widget)
        results.watch(scheduler.group_id)
        wait_until(lambda: status.model.rowCount() == 2 and results.model.rowCount() == 3)
        refreshes: List[int] = []
        status.statuses_refreshed.connect(lambda: refreshes.append(1))
        wait_until(lambda: len(refreshes) >= 5)  # live refreshes happened under the guard

        status.set_server_enabled("sim1", False)
        wait_until(lambda: status.model.status_named("sim1").enabled is False)
        status.table.selectRow(0)
        status.test_selected()
        wait_until(lambda: "sim0: online" in status.message.text())

        for i, job_id in enumerate(["j0-0", "j0-1", "j0-2"]):
            scheduler.update(job_id, state="completed", progress=1.0, outputs=[images[i]])
        wait_until(lambda: all(results.model.index(r, 0).data(THUMB_ROLE) is not None for r in range(3)))
        messages: List[str] = []
        results.message_changed.connect(messages.append)
        results.retry_failed()
        results.cancel()
        results.keep_all()
        wait_until(lambda: ("cancel", scheduler.group_id) in scheduler.calls
                   and any(m.startswith("Kept 1 sequence") for m in messages))

        settings.test_current()
        wait_until(lambda: "sim0: online" in settings.test_result.text())
        settings.preview_input.setText(str(tmp_path / "plate.png"))
        settings.update_preview()
        saved: List[str] = []
        settings.saved.connect(saved.append)
        settings.save()
        wait_until(lambda: saved == [str(settings_path)])
        for widget in (status, results, settings):
            widget.repaint()
        time.sleep(0.05)
    finally:
        status.shutdown()
        results.shutdown()
        monkeypatch.undo()
        pool.stop()
    assert settings_path.exists()
    assert guard.violations == [], guard.violations[0]


def test_guard_catches_io_on_the_gui_thread(tmp_path, monkeypatch):
    """The guard itself works: a file opened on the main thread is a violation, one on a worker is not."""
    guard = _Guard(monkeypatch)
    guard.install()
    worker = threading.Thread(target=lambda: open(tmp_path / "ok.txt", "w").close())
    worker.start()
    worker.join()
    assert guard.violations == []
    with open(tmp_path / "bad.txt", "w"):
        pass
    monkeypatch.undo()
    assert len(guard.violations) == 1 and guard.violations[0].startswith("open on the GUI thread")
