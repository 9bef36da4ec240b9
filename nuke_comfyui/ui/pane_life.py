"""A panel's subscription to the pool or the scheduler follows the panel's life, not its closeEvent.

Docked in Nuke, a panel is never closed with `closeEvent`: hiding its tab (another tab in front,
a workspace switch) sends a hide event, and closing the tab destroys the widget. A subscription
left behind would make the pool's poller thread or the scheduler's event thread call into a
deleted Qt object (RuntimeError on every status change) and keep the panel's bridge alive. So:

- `Subscription` owns one subscription and can be dropped and taken again; it is plain Python, so
  dropping it from the widget's `destroyed` signal never touches the dying widget. A delivery holds
  the subscription's lock, so once `stop()` returns none is running or will run. The panel's
  bridge (the QObject whose signal carries a delivery onto the GUI thread) has no Qt parent and is
  kept by the subscription (`keep`), so a delivery never emits on a deleted object: a bridge
  parented to the panel was deleted while a poller thread, past its check, emitted on it (a
  segfault under PySide2, seen in CI);
- `follow_visibility(widget, resume, pause, subscriptions)` pauses the panel when its widget is
  hidden, resumes it when shown (each reopen or show adds exactly one subscriber), and drops the
  subscriptions when the widget is destroyed.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional, Sequence

from nuke_comfyui.ui.qt import QtCore

Unsubscribe = Callable[[], None]


class Subscription:
    """subscribe(deliver) once while active; `stop()` unsubscribes; safe from any thread."""

    def __init__(self, subscribe: Callable[[Callable[[Any], None]], Unsubscribe],
                 callback: Callable[[Any], None], keep: Any = None) -> None:
        self._subscribe = subscribe
        self._callback = callback
        self._keep = keep  # what `callback` emits on (a bridge): alive as long as a delivery can come
        self._unsubscribe: Optional[Unsubscribe] = None
        # re-entrant: a delivery made on the GUI thread runs its slots at once, and one may stop()
        self._lock = threading.RLock()

    @property
    def active(self) -> bool:
        return self._unsubscribe is not None

    def start(self) -> None:
        """Subscribe, unless already subscribed (so show events never add a second subscriber)."""
        with self._lock:
            if self._unsubscribe is None:
                self._unsubscribe = self._subscribe(self._deliver)

    def stop(self) -> None:
        with self._lock:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()

    def _deliver(self, item: Any) -> None:
        with self._lock:  # stop() waits for a delivery in flight (a queued emit: it never blocks)
            if self._unsubscribe is None:
                return
            try:
                self._callback(item)
                return
            except RuntimeError:  # the Qt object behind the callback was deleted meanwhile
                pass
        self.stop()


class _VisibilityFilter(QtCore.QObject):
    """Hide -> pause, Show -> resume, for the widget it is installed on (its child, so it dies with it)."""

    def __init__(self, widget: Any, resume: Callable[[], None], pause: Callable[[], None]) -> None:
        super().__init__(widget)
        self._resume, self._pause = resume, pause

    def eventFilter(self, watched: Any, event: Any) -> bool:
        kind = event.type()
        if kind == QtCore.QEvent.Type.Hide:
            self._pause()
        elif kind == QtCore.QEvent.Type.Show:
            self._resume()
        return False


def follow_visibility(widget: Any, resume: Callable[[], None], pause: Callable[[], None],
                      subscriptions: Sequence[Subscription]) -> None:
    """Pause the panel while `widget` is hidden, resume it when shown, drop its subscriptions when destroyed."""
    widget.installEventFilter(_VisibilityFilter(widget, resume, pause))
    stops = [subscription.stop for subscription in subscriptions]

    def drop(*_args: Any) -> None:  # plain functions: the widget is being destroyed, never touch it
        for stop in stops:
            stop()

    widget.destroyed.connect(drop)
