"""Live previews and node progress on Job Results cards (pytest-qt, offscreen, both bindings).

The scheduler is the contract fake with a real `LiveBoard` (pure core): the test plays the
streams by writing to the board, as the live feed does from a stream thread.
"""

from __future__ import annotations

import json
import logging
import threading
from types import SimpleNamespace
from typing import Any, List

import pytest

from nuke_comfyui.core.scheduler.live_board import LiveBoard
from tests.ui.conftest import wait_until
from tests.ui.fakes import FakeScheduler

pytestmark = pytest.mark.qt


def jpeg(color: str = "red", size: int = 40) -> bytes:
    from nuke_comfyui.ui.qt import QtCore, QtGui

    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor(color))
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "JPEG")
    return bytes(buffer.data())


class LiveScheduler(FakeScheduler):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.live = LiveBoard()
        self.plan = SimpleNamespace(template_json=json.dumps({"3": {"class_type": "KSampler", "inputs": {}}}))

    def board_job(self, job_id: str) -> Any:
        job = self.jobs[job_id]
        return SimpleNamespace(id=job_id, group=SimpleNamespace(id=self.group_id, plan=self.plan),
                               frame=job.frame, variation=job.variation)

    def step(self, job_id: str, value: int, total: int = 30) -> None:
        """A stream thread hears a step of the job's sampler."""
        worker = threading.Thread(target=lambda: self.live.progress(
            self.board_job(job_id), f"p-{job_id}", "gpu-a", node="3", value=value, maximum=total))
        worker.start()
        worker.join()

    def preview(self, job_id: str, data: bytes) -> None:
        worker = threading.Thread(target=lambda: self.live.preview(self.board_job(job_id), f"p-{job_id}",
                                                                   "image/jpeg", data))
        worker.start()
        worker.join()


def _panel(qtbot: Any, scheduler: Any, size: tuple = (700, 500)) -> Any:
    from nuke_comfyui.ui.results_panel import JobResultsPanel

    panel = JobResultsPanel(scheduler)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.watch(scheduler.group_id)
    wait_until(lambda: panel.model.rowCount() == len(scheduler.jobs))
    return panel


def _row(panel: Any, job_id: str) -> int:
    row = panel.model.row_of(job_id)
    assert row is not None
    return int(row)


def test_a_running_card_shows_its_node_and_latest_preview_then_its_result(qtbot: Any, tmp_path: Any) -> None:
    from nuke_comfyui.ui.qt import QtCore, QtGui
    from nuke_comfyui.ui.results_model import LIVE_ROLE, THUMB_ROLE

    scheduler = LiveScheduler()
    panel = _panel(qtbot, scheduler)
    assert not scheduler.live.interest.previews  # never shown yet: nothing asked of the servers
    panel.show()
    wait_until(lambda: scheduler.live.interest.previews)
    scheduler.update("j0-0", state="running", progress=0.4, server="gpu-a")
    scheduler.step("j0-0", 12)
    scheduler.preview("j0-0", jpeg("red"))
    index = panel.model.index(_row(panel, "j0-0"), 0)
    wait_until(lambda: index.data(LIVE_ROLE) == "KSampler 12/30" and index.data(THUMB_ROLE) is not None)
    assert "KSampler 12/30" in index.data(QtCore.Qt.ItemDataRole.DisplayRole)
    red = index.data(THUMB_ROLE).toImage().pixelColor(5, 5)
    assert red.red() > 200 and red.green() < 60
    assert not panel.grab().isNull()  # paints the preview with its bar on this binding

    scheduler.preview("j0-0", jpeg("blue"))  # replaced as new ones arrive
    wait_until(lambda: index.data(THUMB_ROLE).toImage().pixelColor(5, 5).blue() > 200)

    final = tmp_path / "done.png"
    image = QtGui.QImage(32, 24, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor("green"))
    assert image.save(str(final))
    scheduler.update("j0-0", state="completed", progress=1.0, outputs=[str(final)])
    green = lambda: index.data(THUMB_ROLE).toImage().pixelColor(5, 5).green() > 100  # noqa: E731
    wait_until(lambda: index.data(THUMB_ROLE) is not None and green())
    assert index.data(LIVE_ROLE) == "" and "completed" in index.data(QtCore.Qt.ItemDataRole.DisplayRole)
    assert not panel.model.has_preview("j0-0")


def test_a_hidden_panel_asks_for_nothing_and_decodes_nothing(qtbot: Any) -> None:
    scheduler = LiveScheduler()
    panel = _panel(qtbot, scheduler)
    panel.show()
    wait_until(lambda: scheduler.live.interest.previews)
    panel.hide()
    assert not scheduler.live.interest.previews and not scheduler.live.interest.progress
    scheduler.update("j0-0", state="running", server="gpu-a")
    scheduler.preview("j0-0", jpeg())
    qtbot.wait(600)
    assert panel.live.decodes == 0 and not panel.model.has_preview("j0-0")
    panel.show()  # shown again: what the board holds is picked up
    wait_until(lambda: panel.model.has_preview("j0-0"))
    panel.shutdown()
    assert not scheduler.live.interest.previews


def test_decodes_run_off_the_gui_thread_at_most_one_per_card_per_quarter_second(
        qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from nuke_comfyui.ui import live_cards

    threads: List[threading.Thread] = []
    real = live_cards.decode_preview
    monkeypatch.setattr(live_cards, "decode_preview", lambda data, size: threads.append(threading.current_thread())
                        or real(data, size))
    scheduler = LiveScheduler()
    panel = _panel(qtbot, scheduler)
    panel.show()
    wait_until(lambda: panel.live.watching)
    panel.live._timer.stop()  # the test drives the ticks, with its own clock
    scheduler.update("j0-0", state="running", server="gpu-a")
    cards = panel.live
    for n in range(20):  # twenty previews within 0.2 s of the test's clock
        scheduler.preview("j0-0", jpeg("red" if n % 2 else "blue"))
        cards.tick(now=100.0 + n * 0.01)
        wait_until(lambda: not cards._in_flight)
    assert cards.decodes == 1
    cards.tick(now=100.26)
    wait_until(lambda: not cards._in_flight)
    assert cards.decodes == 2  # the newest one, once the quarter second has passed
    cards.tick(now=100.6)
    assert cards.decodes == 2  # nothing newer: nothing decoded
    assert threads and all(t is not threading.main_thread() for t in threads)


def test_only_cards_on_screen_are_decoded(qtbot: Any) -> None:
    scheduler = LiveScheduler(frames=30, variations=2)
    panel = _panel(qtbot, scheduler, size=(360, 300))
    panel.show()
    wait_until(lambda: panel.live.watching)
    panel.live._timer.stop()
    viewport = panel.grid.viewport().rect()
    rows = [(job_id, panel.grid.visualRect(panel.model.index(_row(panel, job_id), 0))) for job_id in scheduler.jobs]
    shown = next(j for j, rect in rows if rect.intersects(viewport))
    hidden = next(j for j, rect in rows if not rect.intersects(viewport))
    for job_id in (shown, hidden):
        scheduler.update(job_id, state="running", server="gpu-a")
        scheduler.preview(job_id, jpeg())
    panel.live.tick(now=10.0)
    wait_until(lambda: panel.model.has_preview(shown))
    assert not panel.model.has_preview(hidden) and panel.live.decodes == 1
    panel.grid.scrollTo(panel.model.index(_row(panel, hidden), 0))
    panel.live.tick(now=11.0)
    wait_until(lambda: panel.model.has_preview(hidden))
    assert panel.live.decodes == 2


def test_oversized_or_broken_previews_are_dropped_with_one_log_line(
        qtbot: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from nuke_comfyui.ui import live_cards

    monkeypatch.setattr(live_cards, "MAX_BYTES", 2000)
    caplog.set_level(logging.WARNING, logger="nuke_comfyui.ui.live_cards")
    scheduler = LiveScheduler()
    panel = _panel(qtbot, scheduler)
    panel.show()
    wait_until(lambda: panel.live.watching)
    panel.live._timer.stop()
    scheduler.update("j0-0", state="running", server="gpu-a")
    scheduler.update("j0-1", state="running", server="gpu-a")
    big = jpeg(size=400)
    assert len(big) > 2000
    for n in range(3):
        scheduler.preview("j0-0", big)
        scheduler.preview("j0-1", b"\xff\xd8\xff not really a jpeg")
        panel.live.tick(now=10.0 + n)
        wait_until(lambda: not panel.live._in_flight)
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "j0-0" in m and "cap" in m]) == 1
    assert len([m for m in messages if "j0-1" in m and "decode" in m]) == 1
    assert not panel.model.has_preview("j0-0") and not panel.model.has_preview("j0-1")


def test_a_panel_in_a_background_tab_lets_go_like_a_hidden_one(qtbot: Any) -> None:
    """Nuke docks panes as tabs: the panel inside a tab that is not current receives a hide event."""
    from nuke_comfyui.ui.qt import QtWidgets
    from nuke_comfyui.ui.results_panel import JobResultsPanel

    scheduler = LiveScheduler()
    tabs = QtWidgets.QTabWidget()
    qtbot.addWidget(tabs)
    holder = QtWidgets.QWidget()  # host/panes.py wraps the panel in a pane widget, as here
    panel = JobResultsPanel(scheduler, parent=holder)
    QtWidgets.QVBoxLayout(holder).addWidget(panel)
    tabs.addTab(holder, "ComfyUI Results")
    tabs.addTab(QtWidgets.QLabel("Properties"), "Properties")
    tabs.show()
    wait_until(lambda: scheduler.live.interest.previews)
    tabs.setCurrentIndex(1)
    wait_until(lambda: not scheduler.live.interest.previews)
    tabs.setCurrentIndex(0)
    wait_until(lambda: scheduler.live.interest.previews)
    panel.shutdown()
