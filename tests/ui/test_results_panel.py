"""Job Results panel against a contract-following fake scheduler: live tiles, strip, actions."""

from __future__ import annotations

import threading

import pytest

from tests.ui.conftest import wait_until
from tests.ui.fakes import FakeScheduler, FakeSequence

pytestmark = pytest.mark.qt


def _panel(qtbot, scheduler, on_keep=None):
    from nuke_comfyui.ui.results_panel import JobResultsPanel

    panel = JobResultsPanel(scheduler, on_keep=on_keep)
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    return panel


def _png(path, color="red"):
    from nuke_comfyui.ui.qt import QtGui

    image = QtGui.QImage(32, 24, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor(color))
    assert image.save(str(path))
    return str(path)


def test_tiles_follow_job_events(qtbot, tmp_path):
    from nuke_comfyui.ui.qt import QtCore
    from nuke_comfyui.ui.results_model import THUMB_ROLE

    scheduler = FakeScheduler()
    panel = _panel(qtbot, scheduler)
    panel.watch(scheduler.group_id)
    wait_until(lambda: panel.model.rowCount() == 6)
    assert panel.frame_strip.isVisibleTo(panel)

    scheduler.update("j0-0", state="running", progress=0.45, server="gpu-a")
    wait_until(lambda: "running 45%" in panel.model.index(0, 0).data(QtCore.Qt.ItemDataRole.DisplayRole))

    scheduler.update("j0-1", state="failed", error="CUDA out of memory on gpu-b", server="gpu-b")
    wait_until(lambda: "failed: CUDA out of memory" in panel.model.index(1, 0).data())
    assert dict(panel.frame_strip.frames())[1002] == "failed"
    assert panel.retry_button.isEnabled()

    out = _png(tmp_path / "v01.1001.png")
    scheduler.update("j0-0", state="completed", progress=1.0, outputs=[out])
    wait_until(lambda: panel.model.index(0, 0).data(THUMB_ROLE) is not None)
    assert "1/6 done, 1 failed" in panel.summary.text()
    panel.grid.selectAll()
    assert not panel.grab().isNull()  # paints tiles, thumbnail and strip on this binding


def test_first_event_of_unknown_group_shows_it(qtbot):
    scheduler = FakeScheduler()
    panel = _panel(qtbot, scheduler)
    scheduler.update("j1-2", state="timeout", error="no answer in 300s")
    wait_until(lambda: panel.current_group() == scheduler.group_id and panel.model.rowCount() == 6)
    wait_until(lambda: any(j.state == "timeout" for j in panel.jobs()))


def test_retry_and_cancel_reach_the_scheduler_off_the_gui_thread(qtbot):
    from nuke_comfyui.ui.qt import QtCore

    scheduler = FakeScheduler()
    panel = _panel(qtbot, scheduler)
    panel.watch(scheduler.group_id)
    wait_until(lambda: panel.model.rowCount() == 6)
    scheduler.update("j0-0", state="failed", error="boom")
    wait_until(panel.retry_button.isEnabled)
    unfinished = sum(1 for job in panel.jobs() if job.state not in ("completed", "failed", "timeout", "cancelled"))
    assert unfinished and panel.cancel_button.text() == f"Cancel {unfinished} unfinished jobs"  # says what it stops
    assert "finished frames stay" in panel.cancel_button.toolTip()
    qtbot.mouseClick(panel.retry_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    wait_until(lambda: ("cancel", scheduler.group_id) in scheduler.calls)
    assert ("retry_failed", scheduler.group_id) in scheduler.calls
    assert all(t is not threading.main_thread() for t in scheduler.threads)


def test_keep_all_and_selected_call_the_host_hook(qtbot):
    kept = []
    scheduler = FakeScheduler()
    scheduler.sequences = [
        FakeSequence(v, 100 + v, "9", f"/out/v{v + 1:02d}/x.%04d.png", 1001, 1003, [1001], ["gpu-a"])
        for v in range(2)
    ]
    panel = _panel(qtbot, scheduler, on_keep=lambda gid, seqs: kept.append((gid, seqs)))
    panel.watch(scheduler.group_id)
    wait_until(lambda: panel.model.rowCount() == 6)
    panel.keep_all()
    wait_until(lambda: len(kept) == 1)
    assert [s.variation for s in kept[0][1]] == [0, 1]
    panel.grid.setCurrentIndex(panel.model.index(4, 0))  # a tile of variation 1
    panel.keep_selected()
    wait_until(lambda: len(kept) == 2)
    assert kept[1][0] == scheduler.group_id
    assert [s.variation for s in kept[1][1]] == [1]


def test_keep_standalone_reports(qtbot):
    scheduler = FakeScheduler()
    scheduler.sequences = [FakeSequence(0, 100, "9", "/out/v01/x.%04d.png", 1001, 1003, [1001], ["a"])]
    panel = _panel(qtbot, scheduler)
    panel.watch(scheduler.group_id)
    panel.keep_all()
    wait_until(lambda: "/out/v01/x.%04d.png" in panel.message.text())


def test_frame_strip_updates_one_frame_per_event_like_a_rebuild(qtbot):
    """update_job (per event) must leave the strip as set_jobs over every child would."""
    from dataclasses import dataclass, replace

    from nuke_comfyui.ui.frame_strip import FrameStrip, frame_states

    @dataclass(frozen=True)
    class Job:
        job_id: str
        frame: int
        variation: int
        state: str

    strip = FrameStrip()
    qtbot.addWidget(strip)
    jobs = {f"{v}-{f}": Job(f"{v}-{f}", f, v, "queued") for v in range(2) for f in range(1001, 1011)}
    strip.set_jobs(list(jobs.values()))
    for key, state in (("0-1001", "running"), ("1-1001", "completed"), ("0-1001", "completed"),
                       ("1-1005", "failed"), ("0-1005", "completed"), ("1-1005", "queued")):
        jobs[key] = replace(jobs[key], state=state)
        assert strip.update_job(jobs[key])
        assert strip.frames() == frame_states(list(jobs.values()))
    assert dict(strip.frames())[1001] == "completed" and dict(strip.frames())[1005] == "queued"
    assert not strip.update_job(Job("0-2000", 2000, 0, "queued"))  # a frame it never showed: rebuild


@pytest.mark.parametrize("state", ["queued", "dispatched", "running", "completed", "failed"])
def test_a_card_says_its_state_once(qtbot, state):
    """A running card read "RUNNING" in big letters over "running 35%": one label, the caption's."""
    from nuke_comfyui.ui.qt import QtCore, QtGui, QtWidgets
    from nuke_comfyui.ui.results_model import TILE_HEIGHT, TILE_WIDTH, JobTileDelegate, ResultsModel
    from tests.ui.fakes import FakeJob

    drawn = []

    class Recording(QtGui.QPainter):
        def drawText(self, *args):  # Qt's name
            drawn.append(next(str(a) for a in args if isinstance(a, str)))
            return super().drawText(*args)

    model = ResultsModel()
    server = None if state == "queued" else "gpu-a"
    model.set_jobs([FakeJob("j", "g", frame=1001, variation=0, state=state, seed=7, progress=0.35, server=server,
                            error="boom" if state == "failed" else None)])
    image = QtGui.QImage(TILE_WIDTH, TILE_HEIGHT, QtGui.QImage.Format.Format_ARGB32)
    painter = Recording(image)
    option = QtWidgets.QStyleOptionViewItem()
    option.rect = QtCore.QRect(0, 0, TILE_WIDTH, TILE_HEIGHT)
    JobTileDelegate().paint(painter, option, model.index(0, 0))
    painter.end()
    assert [text for text in drawn if state in text.lower()] == [drawn[-1]]  # only the caption's state line
    assert drawn[1] == ("seed 7" if state == "queued" else "seed 7 · gpu-a")  # no "· -" before a server is known


def test_the_summary_says_what_was_lost_where_in_the_pixels(qtbot):
    """The group's journaled request carries the pixel notes (core/pixels): the first on the
    summary line, all of them in its tooltip."""
    from nuke_comfyui.core.render_request import RenderRequest

    notes = ["gpu3 (ComfyUI 0.8.2): cannot load EXR (ComfyUI 0.21+ can), so the plate goes as 8-bit PNG",
             "12 plate pixels outside [0, 1] over 3 frames (sRGB plate): clipped by the 8-bit PNG"]
    request = RenderRequest(workflow_path="/w.json", output_dir="/out",
                            pixels={"encoding": "srgb", "plate": "png", "results": "png", "notes": notes})

    class Journal:
        def group(self, group_id):
            return type("Row", (), {"request": request.to_json()})()

    scheduler = FakeScheduler()
    scheduler.journal = Journal()
    panel = _panel(qtbot, scheduler)
    panel.watch(scheduler.group_id)
    wait_until(lambda: "pixels: gpu3 (ComfyUI 0.8.2): cannot load EXR" in panel.summary.text())
    assert "(and 1 more: hover here)" in panel.summary.text()
    assert panel.summary.toolTip() == "\n".join(notes)


def test_frame_strip_shows_chunks_as_spans_and_colours_every_frame_of_a_chunk(qtbot):
    """Frame batches: a chunk colours all its frames; a frame two chunks share is done when both are."""
    from dataclasses import dataclass, replace
    from typing import Tuple

    from nuke_comfyui.ui.frame_strip import FrameStrip, frame_states

    @dataclass(frozen=True)
    class Job:
        job_id: str
        frame: int
        variation: int
        state: str
        frames: Tuple[int, ...]

    strip = FrameStrip()
    qtbot.addWidget(strip)
    jobs = {"a": Job("a", 1, 0, "completed", tuple(range(1, 9))), "b": Job("b", 7, 0, "running", tuple(range(7, 15))),
            "c": Job("c", 13, 0, "queued", tuple(range(13, 21)))}
    strip.set_jobs(list(jobs.values()))
    states = dict(strip.frames())
    assert sorted(states) == list(range(1, 21))
    assert states[6] == "completed" and states[7] == "running" and states[14] == "running" and states[15] == "queued"
    assert strip.spans() == [(1, 8, "completed"), (7, 14, "running"), (13, 20, "queued")]
    jobs["b"] = replace(jobs["b"], state="completed")
    assert strip.update_job(jobs["b"])
    assert strip.frames() == frame_states(list(jobs.values()))
    assert dict(strip.frames())[8] == "completed" and dict(strip.frames())[13] == "queued"
    assert strip.spans()[1] == (7, 14, "completed")
    strip.resize(400, 40)
    strip.grab()  # paints the spans without error
