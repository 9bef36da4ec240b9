"""Live previews and node progress on the Job Results cards, decoded only when someone looks.

The scheduler's `LiveBoard` keeps each running job's latest preview as the server's JPEG/PNG
bytes and its node ("KSampler 12/30"), but only while someone watches: this controller watches
while the panel is visible (`set_visible`, from its show and hide events) and lets go when it is
hidden, so a hidden panel costs the streams nothing. While visible, a 250 ms timer on the GUI
thread reads what changed (`changes`, O(running jobs)) and:

- puts each running job's node on its card (plain text, no decoding);
- decodes a card's newest preview only if the card is on screen, at most once per
  `DECODE_EVERY_S` per card and one at a time per card, on a private one-thread pool (never the
  GUI thread: Nuke's main thread must not stall on a JPEG). A card scrolled out of view keeps its
  newer preview pending until it is back in view.

A preview over `MAX_BYTES` or one Qt cannot decode is dropped with one log line per card.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, Optional, Set

from nuke_comfyui.core.comfy.previews import MAX_BYTES
from nuke_comfyui.ui.qt import QtCore, QtGui, Signal

log = logging.getLogger(__name__)

DECODE_EVERY_S = 0.25
TICK_MS = 250


def decode_preview(data: bytes, size: int) -> Optional[QtGui.QImage]:
    """The preview's bytes as an image fitted to `size` (None when Qt cannot read them); any thread."""
    image = QtGui.QImage()
    if not image.loadFromData(data) or image.isNull():
        return None
    return image.scaled(size, size, QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                        QtCore.Qt.TransformationMode.SmoothTransformation)


class _DecodeTask(QtCore.QRunnable):
    def __init__(self, cards: LiveCards, job_id: str, version: int, data: bytes, size: int) -> None:
        super().__init__()
        self._cards = cards
        self._job_id = job_id
        self._version = version
        self._data = data
        self._size = size
        self.setAutoDelete(True)

    def run(self) -> None:
        image = decode_preview(self._data, self._size)
        try:
            if image is None:
                self._cards.failed.emit(self._job_id, self._version)
            else:
                self._cards.decoded.emit(self._job_id, self._version, image)
        except RuntimeError:  # the panel closed while we decoded
            log.debug("preview of %s dropped: its panel is gone", self._job_id)


class LiveCards(QtCore.QObject):
    """Feeds a `ResultsModel`'s running cards from a `LiveBoard` while `set_visible(True)`."""

    decoded = Signal(str, int, object)
    failed = Signal(str, int)

    def __init__(self, board: Any, model: Any, view: Any, size: int = 128,
                 parent: Optional[QtCore.QObject] = None) -> None:
        super().__init__(parent)
        self.board = board
        self.model = model
        self.view = view
        self.size = size
        self.decodes = 0  # decodes started (shown in tests and by the bench's reasoning)
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        self._release: Optional[Any] = None
        self._version = 0
        self._pending: Set[str] = set()
        self._in_flight: Dict[str, int] = {}
        self._last_decode: Dict[str, float] = {}
        self._shown: Dict[str, int] = {}
        self._refused: Set[str] = set()
        self.decoded.connect(self._on_decoded)
        self.failed.connect(self._on_failed)

    @property
    def watching(self) -> bool:
        return self._release is not None

    def set_visible(self, visible: bool) -> None:
        """Watch (previews and node progress) while the panel is visible; let go when it is not."""
        if visible and self._release is None:
            self._release = self.board.watch(previews=True)
            self.rescan()
            self._timer.start()
        elif not visible and self._release is not None:
            self._release()
            self._release = None
            self._timer.stop()
            self._pending.clear()

    def rescan(self) -> None:
        """The next tick reads everything the board holds (after a group switch, say)."""
        self._version = 0
        self._shown.clear()
        self._last_decode = {j: t for j, t in self._last_decode.items() if self.model.row_of(j) is not None}
        self._refused = {j for j in self._refused if self.model.row_of(j) is not None}

    def stop(self) -> None:
        self.set_visible(False)
        self._pool.clear()
        self._pool.waitForDone(2000)

    def tick(self, now: Optional[float] = None) -> None:
        """One pass (GUI thread): node texts, then decodes of on-screen cards that are due."""
        now = time.monotonic() if now is None else now
        changes = self.board.changes(self._version)
        self._version = changes.version
        for status in changes.statuses:
            self.model.set_live_text(status.job_id, status.text)
        self._pending.update(changes.previews)
        for job_id in list(self._pending):
            if self.model.row_of(job_id) is None:
                self._pending.discard(job_id)  # another group's card: a rescan brings it back
            elif job_id not in self._in_flight and now - self._last_decode.get(job_id, -1e9) >= DECODE_EVERY_S \
                    and self._on_screen(job_id):
                self._pending.discard(job_id)
                self._start_decode(job_id, now)

    def _start_decode(self, job_id: str, now: float) -> None:
        preview = self.board.latest_preview(job_id)
        if preview is None or preview.version <= self._shown.get(job_id, 0):
            return
        if len(preview.data) > MAX_BYTES:
            self._refuse(job_id, f"{len(preview.data)} bytes, over the {MAX_BYTES}-byte cap")
            return
        self._in_flight[job_id] = preview.version
        self._last_decode[job_id] = now
        self.decodes += 1
        self._pool.start(_DecodeTask(self, job_id, preview.version, preview.data, self.size))

    def _on_screen(self, job_id: str) -> bool:
        row = self.model.row_of(job_id)
        if row is None:
            return False
        rect = self.view.visualRect(self.model.index(row, 0))
        return bool(rect.isValid() and rect.intersects(self.view.viewport().rect()))

    def _on_decoded(self, job_id: str, version: int, image: QtGui.QImage) -> None:
        self._in_flight.pop(job_id, None)
        if version > self._shown.get(job_id, 0) and self.model.set_preview(job_id, QtGui.QPixmap.fromImage(image)):
            self._shown[job_id] = version

    def _on_failed(self, job_id: str, version: int) -> None:
        self._in_flight.pop(job_id, None)
        self._shown[job_id] = max(version, self._shown.get(job_id, 0))
        self._refuse(job_id, "not an image Qt can decode")

    def _refuse(self, job_id: str, reason: str) -> None:
        if job_id not in self._refused:
            self._refused.add(job_id)
            log.warning("live preview of job %s dropped: %s", job_id, reason)
