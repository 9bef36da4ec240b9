"""The tiles of the Job Results panel: one per child job of a group, with its thumbnail.

`ResultsModel` holds the latest `JobSnapshot` of each child (ordered by variation, then frame)
and the thumbnails loaded so far; `JobTileDelegate` paints a tile: picture or state swatch,
"var02 · f1001", seed, server, and the state line (running 45 %, failed: reason, ...). While a job
runs, its live preview stands in for the picture and its node ("KSampler 12/30") for the state
line (both set by live_cards.py); they go as soon as the job is no longer running. The state is
said once, in the caption: the picture area carries no state word.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

from nuke_comfyui.core.variation_names import variation_name
from nuke_comfyui.ui.palette import job_color, state_value
from nuke_comfyui.ui.qt import QtCore, QtGui, QtWidgets, combine_flags, enum_int

Qt = QtCore.Qt

JOB_ROLE = int(Qt.ItemDataRole.UserRole) + 10
THUMB_ROLE = int(Qt.ItemDataRole.UserRole) + 11
LIVE_ROLE = int(Qt.ItemDataRole.UserRole) + 12  # the running node, "KSampler 12/30" ('' when unknown)

TILE_WIDTH = 150
THUMB_HEIGHT = 96
TILE_HEIGHT = THUMB_HEIGHT + 62


def job_title(job: Any) -> str:
    """'var02 · f1001' (frame-range render) or 'var02' (a single image per variation)."""
    title = variation_name(job.variation)
    if job.frame is not None:
        title += f" · f{job.frame}"
    return title


def job_state_text(job: Any) -> str:
    """'queued', 'running 45%', 'completed', 'failed: <reason>', 'timeout: <reason>'."""
    state = state_value(job.state)
    if state == "running":
        return f"running {round(100 * float(job.progress or 0.0))}%"
    if state in ("failed", "timeout") and job.error:
        return f"{state}: {job.error}"
    return state


def _sort_key(job: Any) -> tuple:
    return (job.variation, job.frame if job.frame is not None else -1, job.job_id)


class ResultsModel(QtCore.QAbstractListModel):
    """The children of one group as list items (GUI thread only)."""

    def __init__(self, parent: Optional[QtCore.QObject] = None) -> None:
        super().__init__(parent)
        self._jobs: List[Any] = []
        self._row: Dict[str, int] = {}
        self._thumbs: Dict[str, QtGui.QPixmap] = {}
        self._previews: Dict[str, QtGui.QPixmap] = {}  # running jobs only
        self._live: Dict[str, str] = {}  # running jobs only
        #: the workflow input values a job was sent with (the panel reads them from the journal)
        self.values_for: Optional[Callable[[Any], Dict[str, Any]]] = None

    def set_jobs(self, jobs: Sequence[Any]) -> None:
        self.beginResetModel()
        self._jobs = sorted(jobs, key=_sort_key)
        self._row = {job.job_id: i for i, job in enumerate(self._jobs)}
        running = {job.job_id for job in self._jobs if state_value(job.state) == "running"}
        self._previews = {k: v for k, v in self._previews.items() if k in running}
        self._live = {k: v for k, v in self._live.items() if k in running}
        self.endResetModel()

    def update_job(self, job: Any) -> bool:
        """Replace one child's snapshot; False if the job is not in this model."""
        row = self._row.get(job.job_id)
        if row is None:
            return False
        self._jobs[row] = job
        if state_value(job.state) != "running":
            self._previews.pop(job.job_id, None)
            self._live.pop(job.job_id, None)
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)
        return True

    def set_preview(self, job_id: str, pixmap: QtGui.QPixmap) -> bool:
        """Show a running job's live preview; False (and nothing kept) if the job is not running here."""
        return self._set_live_part(self._previews, job_id, pixmap)

    def set_live_text(self, job_id: str, text: str) -> bool:
        return self._set_live_part(self._live, job_id, text)

    def live_text(self, job_id: str) -> str:
        return self._live.get(job_id, "")

    def has_preview(self, job_id: str) -> bool:
        return job_id in self._previews

    def _set_live_part(self, store: Dict[str, Any], job_id: str, value: Any) -> bool:
        row = self._row.get(job_id)
        if row is None or state_value(self._jobs[row].state) != "running":
            return False
        store[job_id] = value
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)
        return True

    def set_thumbnail(self, job_id: str, pixmap: QtGui.QPixmap) -> None:
        self._thumbs[job_id] = pixmap
        row = self._row.get(job_id)
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    def jobs(self) -> List[Any]:
        return list(self._jobs)

    def job_at(self, row: int) -> Optional[Any]:
        return self._jobs[row] if 0 <= row < len(self._jobs) else None

    def row_of(self, job_id: str) -> Optional[int]:
        return self._row.get(job_id)

    def rowCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def flags(self, index: QtCore.QModelIndex) -> Any:
        return combine_flags(Qt.ItemFlag.ItemIsEnabled, Qt.ItemFlag.ItemIsSelectable)

    def data(self, index: QtCore.QModelIndex, role: Any = Qt.ItemDataRole.DisplayRole) -> Any:
        job = self.job_at(index.row())
        if job is None:
            return None
        role = enum_int(role)
        if role == int(Qt.ItemDataRole.DisplayRole):
            return f"{job_title(job)}\n{self._live.get(job.job_id) or job_state_text(job)}"
        if role == int(Qt.ItemDataRole.ToolTipRole):
            lines = [job_title(job), f"seed {job.seed}", f"server {job.server or '-'}", job_state_text(job)]
            values = self.values_for(job) if self.values_for is not None else {}
            lines += [f"{key} = {value!r}"[:120] for key, value in sorted(values.items())]
            lines += [str(path) for path in job.outputs[:3]]
            return "\n".join(lines)
        if role == JOB_ROLE:
            return job
        if role == THUMB_ROLE:
            return self._thumbs.get(job.job_id) or self._previews.get(job.job_id)
        if role == LIVE_ROLE:
            return self._live.get(job.job_id, "")
        return None


class JobTileDelegate(QtWidgets.QStyledItemDelegate):
    """Paints one child: thumbnail (or a state swatch with its progress), then three caption lines."""

    def sizeHint(self, option: Any, index: QtCore.QModelIndex) -> QtCore.QSize:
        return QtCore.QSize(TILE_WIDTH, TILE_HEIGHT)

    def paint(self, painter: QtGui.QPainter, option: Any, index: QtCore.QModelIndex) -> None:
        job = index.data(JOB_ROLE)
        if job is None:
            return
        selected = enum_int(option.state) & enum_int(QtWidgets.QStyle.StateFlag.State_Selected)
        rect = QtCore.QRect(option.rect).adjusted(3, 3, -3, -3)
        color = job_color(job.state)
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(QtGui.QPen(QtGui.QColor("#5b8def") if selected else QtGui.QColor("#3a3a3a"), 2))
        painter.setBrush(QtGui.QColor("#2b2b2b"))
        painter.drawRoundedRect(rect, 4, 4)
        picture = QtCore.QRect(rect.left() + 4, rect.top() + 4, rect.width() - 8, THUMB_HEIGHT - 8)
        self._paint_picture(painter, picture, job, index.data(THUMB_ROLE), color)
        self._paint_caption(painter, rect, picture, job, color, live=index.data(LIVE_ROLE) or "")
        painter.restore()

    @staticmethod
    def _paint_picture(painter: QtGui.QPainter, area: QtCore.QRect, job: Any,
                       pixmap: Optional[QtGui.QPixmap], color: QtGui.QColor) -> None:
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
            x = area.left() + (area.width() - scaled.width()) // 2
            y = area.top() + (area.height() - scaled.height()) // 2
            painter.drawPixmap(x, y, scaled)
            if state_value(job.state) == "running":  # a live preview: its progress stays in sight
                JobTileDelegate._paint_bar(painter, area, job, color)
            return
        swatch = QtGui.QColor(color)
        swatch.setAlpha(70)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(swatch)
        painter.drawRect(area)
        if state_value(job.state) == "running":
            JobTileDelegate._paint_bar(painter, area, job, color)
        # no state word in the swatch: the caption's coloured state line says it once

    @staticmethod
    def _paint_bar(painter: QtGui.QPainter, area: QtCore.QRect, job: Any, color: QtGui.QColor) -> None:
        bar = QtCore.QRect(area)
        bar.setTop(area.bottom() - 6)
        bar.setWidth(int(area.width() * max(0.0, min(1.0, float(job.progress or 0.0)))))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRect(bar)

    @staticmethod
    def _paint_caption(painter: QtGui.QPainter, rect: QtCore.QRect, picture: QtCore.QRect, job: Any,
                       color: QtGui.QColor, *, live: str = "") -> None:
        line_height = 16
        top = picture.bottom() + 4
        left = rect.left() + 6
        width = rect.width() - 12
        metrics = painter.fontMetrics()
        lines = [
            (job_title(job), QtGui.QColor("#f0f0f0")),
            (f"seed {job.seed} · {job.server}" if job.server else f"seed {job.seed}", QtGui.QColor("#a8a8a8")),
            (live if live and state_value(job.state) == "running" else job_state_text(job), color),
        ]
        for i, (text, pen) in enumerate(lines):
            painter.setPen(pen)
            elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
            painter.drawText(QtCore.QRectF(left, top + i * line_height, width, line_height), elided,
                             QtGui.QTextOption(Qt.AlignmentFlag.AlignLeft))
