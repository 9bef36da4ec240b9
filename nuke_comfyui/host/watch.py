"""Follow one group's scheduler events and apply them to its node on Nuke's main thread.

Scheduler callbacks arrive on worker threads, many per second on a busy farm. The watcher
coalesces them: at most one main-thread update is queued at a time, and that update reads the
*latest* view of the group, so nothing is lost and Nuke's event loop is not flooded. The view
(`Scheduler.view`: counters, output sequences, failed children) costs O(sequences + failures)
under the scheduler's lock, never O(jobs) like a full snapshot of a 10,000-job group. Only the node name
and the group id cross threads. Events raised on the main thread itself (from our own submit,
cancel or retry calls) are ignored here; those callers refresh the node right after the call.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, Optional

import nuke

from nuke_comfyui.host.main_thread import on_main_thread
from nuke_comfyui.host.report import is_finished

if TYPE_CHECKING:
    from nuke_comfyui.core.scheduler import GroupReport, Scheduler

log = logging.getLogger(__name__)
Apply = Callable[[str, "GroupReport"], None]


def event_group_id(event: Any) -> Optional[str]:
    """The group an event (JobUpdated or GroupUpdated) belongs to."""
    for attr in ("group", "job"):
        inner = getattr(event, attr, None)
        if inner is not None:
            return getattr(inner, "group_id", None)
    return getattr(event, "group_id", None)


class GroupWatcher:
    """Scheduler events of one group -> `apply(node_name, view)` on the main thread."""

    def __init__(self, scheduler: Scheduler, node_name: str, group_id: str, apply: Apply) -> None:
        self.node_name = node_name
        self.group_id = group_id
        self._scheduler = scheduler
        self._apply = apply
        self._lock = threading.Lock()
        self._queued = False
        self._unsubscribe: Optional[Callable[[], None]] = None

    def start(self) -> None:
        self._unsubscribe = self._scheduler.subscribe(self._on_event)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @property
    def active(self) -> bool:
        return self._unsubscribe is not None

    def _on_event(self, event: Any) -> None:
        if event_group_id(event) != self.group_id or on_main_thread():
            return
        with self._lock:
            if self._queued:
                return
            self._queued = True
        nuke.executeInMainThread(self._flush)

    def _flush(self) -> None:
        """Main thread: apply the newest view; stop following once the group has finished."""
        with self._lock:
            self._queued = False
        if not self.active:
            return
        snapshot = self._scheduler.view(self.group_id)
        try:
            self._apply(self.node_name, snapshot)
        except (ValueError, NameError, RuntimeError) as exc:
            log.warning("could not update %s: %s", self.node_name, exc)
        if is_finished(snapshot):
            self.stop()
