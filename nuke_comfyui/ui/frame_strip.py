"""The per-frame progress strip of a frame-range render: one coloured cell per frame.

A frame's colour sums up all its variations (any failure shows, then running, then queued; green
only when every variation of that frame is done), so an artist sees at a glance which frames of a
sequence are missing. Hidden for renders without frames (seed variations of one image).

`set_jobs` builds the strip from every child (a group's first load); `update_job` then changes
one frame's cell per job event, so a 10,000-frame render costs O(variations) per event on the GUI
thread rather than a rebuild.

Frame batches (docs/TEMPORAL.md): a chunk colours every frame it renders (a frame two chunks
share is done when both are), and each chunk is drawn as a span under the cells, in two lanes so
neighbouring chunks' overlaps show.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.ui.palette import job_color, state_value
from nuke_comfyui.ui.qt import QtCore, QtGui, QtWidgets

# Order of precedence when variations of one frame disagree (first wins).
_PRECEDENCE = ["failed", "timeout", "running", "dispatched", "queued", "blocked", "cancelled", "completed"]


def job_frames(job: Any) -> Tuple[int, ...]:
    """The frames a job renders: a chunk's, else its one frame (none for a still)."""
    frames = tuple(getattr(job, "frames", ()) or ())
    if len(frames) > 1:
        return tuple(int(f) for f in frames)
    return (int(job.frame),) if job.frame is not None else ()


def frame_states(jobs: Sequence[Any]) -> List[Tuple[int, str]]:
    """[(frame, summary_state)] sorted by frame, for jobs that have a frame number."""
    by_frame: Dict[int, List[str]] = {}
    for job in jobs:
        for frame in job_frames(job):
            by_frame.setdefault(frame, []).append(state_value(job.state))
    return [(frame, _summary_state(by_frame[frame])) for frame in sorted(by_frame)]


def _summary_state(states: Sequence[str]) -> str:
    return next((s for s in _PRECEDENCE if s in states), states[0])


class FrameStrip(QtWidgets.QWidget):
    """Paints `frame_states` as a row of cells with the first and last frame numbers under it."""

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        self._frames: List[Tuple[int, str]] = []
        self._cell: Dict[int, int] = {}  # frame -> its position in _frames
        self._states: Dict[int, Dict[str, str]] = {}  # frame -> job id -> state
        self._spans: Dict[str, Tuple[int, int, str]] = {}  # chunk job id -> (first cell, last cell, state)
        self.setMinimumHeight(30)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

    def set_jobs(self, jobs: Sequence[Any]) -> None:
        self._frames = frame_states(jobs)
        self._cell = {frame: i for i, (frame, _) in enumerate(self._frames)}
        self._states = {}
        self._spans = {}
        for job in jobs:
            frames = job_frames(job)
            for frame in frames:
                self._states.setdefault(frame, {})[job.job_id] = state_value(job.state)
            if len(frames) > 1:
                self._spans[job.job_id] = (self._cell[frames[0]], self._cell[frames[-1]], state_value(job.state))
        self.setMinimumHeight(36 if self._spans else 30)
        self.setVisible(bool(self._frames))
        self.setToolTip(self._summary())
        self.update()

    def update_job(self, job: Any) -> bool:
        """One child changed: repaint its frame's cell. False when the strip must be rebuilt with
        set_jobs (a frame it does not show yet)."""
        frames = job_frames(job)
        if not frames:
            return True
        if any(frame not in self._cell for frame in frames):
            return False
        state = state_value(job.state)
        if len(frames) > 1 and job.job_id in self._spans:
            first, last, _old = self._spans[job.job_id]
            self._spans[job.job_id] = (first, last, state)
            self.update()
        for frame in frames:
            position = self._cell[frame]
            states = self._states.setdefault(frame, {})
            states[job.job_id] = state
            summary = _summary_state(list(states.values()))
            if self._frames[position][1] != summary:
                self._frames[position] = (frame, summary)
                self.setToolTip("")  # computed when asked (toolTip below): O(frames)
                self.update()
        return True

    def spans(self) -> List[Tuple[int, int, str]]:
        """Each chunk as (first frame, last frame, state), in frame order (empty frame by frame)."""
        return sorted((self._frames[a][0], self._frames[b][0], state) for a, b, state in self._spans.values())

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ToolTip and not self.toolTip():
            self.setToolTip(self._summary())
        return super().event(event)

    def frames(self) -> List[Tuple[int, str]]:
        return list(self._frames)

    def _summary(self) -> str:
        counts: Dict[str, int] = {}
        for _frame, state in self._frames:
            counts[state] = counts.get(state, 0) + 1
        return ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(400, 30)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        if not self._frames:
            return
        painter = QtGui.QPainter(self)
        width = self.width()
        cell = width / float(len(self._frames))
        bar_height = 14
        for i, (_frame, state) in enumerate(self._frames):
            x0 = int(i * cell)
            x1 = int((i + 1) * cell)
            gap = 1 if cell >= 4 else 0
            painter.fillRect(x0, 0, max(1, x1 - x0 - gap), bar_height, job_color(state))
        if self._spans:
            for lane, (first, last, state) in enumerate(sorted(self._spans.values())):
                y = bar_height + 2 + (lane % 2) * 3  # two lanes: a chunk and its neighbour overlap visibly
                painter.fillRect(int(first * cell), y, max(1, int((last + 1) * cell) - int(first * cell) - 1), 2,
                                 job_color(state))
            bar_height += 7
        painter.setPen(QtGui.QColor("#a8a8a8"))
        first, last = self._frames[0][0], self._frames[-1][0]
        text_rect = QtCore.QRectF(0, bar_height + 1, width, self.height() - bar_height - 1)
        painter.drawText(text_rect, str(first), QtGui.QTextOption(QtCore.Qt.AlignmentFlag.AlignLeft))
        painter.drawText(text_rect, str(last), QtGui.QTextOption(QtCore.Qt.AlignmentFlag.AlignRight))
        painter.end()
