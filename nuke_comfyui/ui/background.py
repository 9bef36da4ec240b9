"""Run blocking work (network, disk) on a worker thread and hand the result back to the GUI thread.

Panels must never block the GUI thread, and widgets may only be touched from it. `run_in_background`
executes a plain Python callable in a QRunnable on our own pool (`worker_pool()`) and delivers its
result or exception through queued Qt signals, so the callbacks always run on the GUI thread.

Never on `QThreadPool.globalInstance()`: Qt uses that pool itself — a smooth `QImage.scaled` of an
image over 65,536 pixels splits the work into segments run there and waits for them — and a Python
task waiting there for the GIL holds a pool thread. A thread scaling an image keeps the GIL
(PySide2 does not release it in `scaled`), so with the global pool's threads all taken by our tasks
the segments never run: a deadlock, seen in CI (a 512 px preview scaled while the Server Status
panel refreshed). In Nuke the global pool is Nuke's too.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, List, Optional, Set

from nuke_comfyui.ui.qt import QtCore, Signal

log = logging.getLogger(__name__)

# Keeps relays alive until their signal has been delivered (a QRunnable may outlive its caller's frame).
_LIVE: Set[_Relay] = set()
# Keeps each task's Python object alive until its run() has finished: PySide2 may otherwise free the
# wrapper of a Python QRunnable handed to QThreadPool.start while the pool thread is about to run it
# (seen in CI: run() found neither `_fn` nor `_relay` on a half-freed object).
_RUNNING: Set[_Task] = set()


class _Relay(QtCore.QObject):
    """Lives on the GUI thread; the worker emits, Qt queues the call onto the GUI thread."""

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        on_done: Optional[Callable[[Any], None]],
        on_error: Optional[Callable[[BaseException], None]],
        owner: Optional[QtCore.QObject] = None,
    ) -> None:
        super().__init__(owner)
        self._on_done = on_done
        self._on_error = on_error
        self.succeeded.connect(self._deliver_result, QtCore.Qt.ConnectionType.QueuedConnection)
        self.failed.connect(self._deliver_error, QtCore.Qt.ConnectionType.QueuedConnection)

    def _deliver_result(self, value: Any) -> None:
        _LIVE.discard(self)
        if self._on_done is not None:
            self._on_done(value)

    def _deliver_error(self, exc: BaseException) -> None:
        _LIVE.discard(self)
        if self._on_error is not None:
            self._on_error(exc)
        else:
            log.warning("background task failed: %s", exc)


class _Task(QtCore.QRunnable):
    """The QRunnable that calls the function on a pool thread and reports through the relay."""

    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            value = self._fn()
        except Exception as exc:  # noqa: BLE001  (any failure is handed to the GUI thread to show)
            self._emit(self._relay.failed, exc)
        else:
            self._emit(self._relay.succeeded, value)
        finally:
            _RUNNING.discard(self)

    @staticmethod
    def _emit(signal: Any, value: Any) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the owning panel was closed meanwhile: nobody is left to tell
            log.debug("background result dropped: its panel is gone")


def run_in_background(
    fn: Callable[[], Any],
    on_done: Optional[Callable[[Any], None]] = None,
    on_error: Optional[Callable[[BaseException], None]] = None,
    pool: Optional[QtCore.QThreadPool] = None,
    owner: Optional[QtCore.QObject] = None,
) -> None:
    """Call `fn()` on a worker thread; `on_done(result)` or `on_error(exc)` later runs on the GUI thread.

    Must be called from the GUI thread (the relay object is created there, which is what makes the
    callbacks land on it). With `owner` (the panel), the callbacks are dropped once the owner is
    deleted, so a result arriving after its panel closed never touches a dead widget.
    """
    relay = _Relay(on_done, on_error, owner)
    _LIVE.add(relay)
    if owner is not None:
        owner.destroyed.connect(lambda *_: _LIVE.discard(relay))
    task = _Task(fn, relay)
    _RUNNING.add(task)
    (pool or worker_pool()).start(task)


_POOL: List[QtCore.QThreadPool] = []
#: at most this many blocking calls at once (status reads, tests of a connection, file loads)
WORKERS = 4


def worker_pool() -> QtCore.QThreadPool:
    """Our own thread pool, made on first use and kept for the process (see the module docstring)."""
    if not _POOL:
        pool = QtCore.QThreadPool()
        pool.setMaxThreadCount(WORKERS)
        _POOL.append(pool)
    return _POOL[0]


def wait_for_background(timeout_ms: int = 5000) -> bool:
    """Block until our pool is idle (used by the CLI before exit and by tests)."""
    return bool(worker_pool().waitForDone(timeout_ms))
