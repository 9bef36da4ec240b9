"""Who is looking at live progress right now: the switch that keeps previews free when nobody is.

A real server sends about ten `progress_state` frames and, with a preview method, one preview
image per sampler step for every prompt. Parsing them costs CPU on every stream thread of a
client that may run hundreds of servers, so each stream reads two booleans here on every frame
and drops those frames before any parsing unless someone watches: the CLI's progress lines
(node progress only), or a visible Job Results panel (progress and previews). Headless Nuke,
`render --json` and a hidden panel watch nothing.

`watch()` is counted, so two panels (or a panel and the CLI) can each take and release it.
"""

from __future__ import annotations

import threading
from typing import Callable


class LiveInterest:
    """Counted watchers; `progress` and `previews` are plain attributes read without a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress = 0
        self._previews = 0
        self.progress = False  # parse progress_state (and keep per-node progress)
        self.previews = False  # split preview frames and keep the latest image per job

    def watch(self, *, previews: bool = False) -> Callable[[], None]:
        """Start watching node progress (and previews, if asked); returns the release (idempotent)."""
        with self._lock:
            self._progress += 1
            self._previews += int(previews)
            self._publish()
        released = [False]

        def release() -> None:
            with self._lock:
                if released[0]:
                    return
                released[0] = True
                self._progress -= 1
                self._previews -= int(previews)
                self._publish()

        return release

    def _publish(self) -> None:
        self.progress = self._progress > 0
        self.previews = self._previews > 0
