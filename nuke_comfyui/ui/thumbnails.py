"""Loads result thumbnails off the GUI thread: decode and scale a QImage in a QRunnable, then signal.

Decoding a 4K PNG takes long enough to stutter a panel, and reading it is disk I/O, which the GUI
thread must never do. QImage (unlike QPixmap) is safe to build on any thread; the panel turns it
into a pixmap when the `loaded` signal arrives on the GUI thread.
"""

from __future__ import annotations

import logging
from typing import Optional, Set

from nuke_comfyui.ui.background import worker_pool
from nuke_comfyui.ui.qt import QtCore, QtGui, Signal

log = logging.getLogger(__name__)


class _LoadTask(QtCore.QRunnable):
    def __init__(self, loader: ThumbnailLoader, key: str, path: str, size: int) -> None:
        super().__init__()
        self._loader = loader
        self._key = key
        self._path = path
        self._size = size
        self.setAutoDelete(True)

    def run(self) -> None:
        image = QtGui.QImage(self._path)
        try:
            if image.isNull():
                self._loader.failed.emit(self._key, self._path)
                return
            scaled = image.scaled(
                self._size,
                self._size,
                QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                QtCore.Qt.TransformationMode.SmoothTransformation,
            )
            self._loader.loaded.emit(self._key, scaled)
        except RuntimeError:  # the panel (and its loader) closed while we decoded: drop the picture
            log.debug("thumbnail for %s dropped: its panel is gone", self._key)


class ThumbnailLoader(QtCore.QObject):
    """`request(key, path)` once per image; `loaded(key, QImage)` or `failed(key, path)` follows."""

    loaded = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, size: int = 128, parent: Optional[QtCore.QObject] = None,
                 pool: Optional[QtCore.QThreadPool] = None) -> None:
        super().__init__(parent)
        self.size = size
        self._pool = pool or worker_pool()  # never Qt's global pool (background.py says why)
        self._requested: Set[str] = set()
        self.failed.connect(lambda key, path: log.debug("no preview for %s (%s)", key, path))

    def request(self, key: str, path: str) -> bool:
        """Queue a load unless one for `key` was already asked for; returns whether it was queued."""
        if key in self._requested or not path:
            return False
        self._requested.add(key)
        self._pool.start(_LoadTask(self, key, path, self.size))
        return True
