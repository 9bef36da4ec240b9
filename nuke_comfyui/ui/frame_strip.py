"""The per-frame progress strip of a frame-range render: one coloured cell per frame.

A frame's colour sums up all its variations (any failure shows, then running, then queued; green
only when every variation of that frame is done), so an artist sees at a glance which frames of a
sequence are missing. Hidden for renders without frames (seed variations of one image).

`set_jobs` builds the strip from every child (a group's first load); `update_job` then changes
one frame's cell per job event, so a 10,000-frame render costs O(variations) per event on the GUI
thread rather than a rebuild.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.ui.palette import job_color, state_value
from nuke_comfyui.ui.qt import QtCore, QtGui, QtWidgets

# Order of precedence when variations of one frame disagree (first wins).
_PRECEDENCE = ["failed", "timeout", "running", "dispatched", "queued", "blocked", "cancelled", "completed"]


def frame_states(jobs: Sequence[Any]) -> List[Tuple[int, str]]:
    """[(frame, summary_state)] sorted by frame, for jobs that have a frame number."""
    by_frame: Dict[int, List[str]] = {}
    for job in jobs:
        if job.frame is not None:
            by_frame.setdefault(int(job.frame), []).append(state_value(job.state))
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
        self.setMinimumHeight(30)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

    def set_jobs(self, jobs: Sequence[Any]) -> None:
        self._frames = frame_states(jobs)
        self._cell = {frame: i for i, (frame, _) in enumerate(self._frames)}
        self._states = {}
        for job in jobs:
            if job.frame is not None:
                self._states.setdefault(int(job.frame), {})[job.job_id] = state_value(job.state)
        self.setVisible(bool(self._frames))
        self.setToolTip(self._summary())
        self.update()

    def update_job(self, job: Any) -> bool:
        """One child changed: repaint its frame's cell. False when the strip must be rebuilt with
        set_jobs (a frame it does not show yet)."""
        if job.frame is None:
            return True
        frame = int(job.frame)
        position = self._cell.get(frame)
        if position is None:
            return False
        states = self._states.setdefault(frame, {})
        states[job.job_id] = state_value(job.state)
        summary = _summary_state(list(states.values()))
        if self._frames[position][1] != summary:
            self._frames[position] = (frame, summary)
            self.setToolTip("")  # computed when asked (toolTip below): O(frames)
            self.update()
        return True

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
        painter.setPen(QtGui.QColor("#a8a8a8"))
        first, last = self._frames[0][0], self._frames[-1][0]
        text_rect = QtCore.QRectF(0, bar_height + 1, width, self.height() - bar_height - 1)
        painter.drawText(text_rect, str(first), QtGui.QTextOption(QtCore.Qt.AlignmentFlag.AlignLeft))
        painter.drawText(text_rect, str(last), QtGui.QTextOption(QtCore.Qt.AlignmentFlag.AlignRight))
        painter.end()
