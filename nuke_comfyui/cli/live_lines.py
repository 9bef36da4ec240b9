"""Per-node progress of a group's running jobs in the terminal: what `render` shows while it waits.

On a terminal the progress bar ends with the node and step of the slowest running job (the one
running longest; on a tie, the one least far through its node): `... | frame 1003 var01 on gpu2:
KSampler 12/30`. When stderr is not a terminal (a farm log, a pipe), a ticker prints a line per
running job when its node or step changed, at most once every `INTERVAL_S` per job, in the same
form. Node progress is asked of the servers only while this runs (`scheduler.live.watch()`),
never previews; `render --json` does not use it at all.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Iterable, Optional

from nuke_comfyui.core.variation_names import variation_name

#: seconds between two lines about the same job (when stderr is not a terminal)
INTERVAL_S = 5.0
TICK_S = 1.0


def variation_tag(variation: int) -> str:
    """`var01` for variation 0 (core/variation_names.py names variations everywhere)."""
    return variation_name(variation)


def describe_running(status: Any) -> str:
    """`frame 1003 var01 on gpu2: KSampler 12/30` (no frame: `var03 on gpu2: ...`)."""
    where = f"frame {status.frame} " if status.frame is not None else ""
    return f"{where}{variation_tag(status.variation)} on {status.server}: {status.text}"


def slowest(statuses: Iterable[Any]) -> Optional[Any]:
    """The running job that holds the group back: running longest, then least far through its node."""
    named = [s for s in statuses if s.text]
    return min(named, key=lambda s: (s.since, s.fraction, s.job_id)) if named else None


class LiveLines:
    """Follows one group's live statuses on `scheduler.live`; `write(text)` prints one line."""

    def __init__(self, board: Any, group_id: str, write: Callable[[str], None], *, tty: bool,
                 interval: Optional[float] = None, tick: Optional[float] = None) -> None:
        self.board = board
        self.group_id = group_id
        self.write = write
        self.tty = tty
        self.interval = INTERVAL_S if interval is None else interval
        self.tick = TICK_S if tick is None else tick
        self._printed: Dict[str, tuple] = {}  # job id -> (text, when)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._release: Optional[Callable[[], None]] = None

    def start(self) -> LiveLines:
        self._release = self.board.watch()
        if not self.tty:
            self._thread = threading.Thread(target=self._run, name="nuke-comfyui-live-lines", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.tick + 1.0)
            self._thread = None
        if self._release is not None:
            self._release()
            self._release = None

    def suffix(self) -> str:
        """What the terminal's bar shows after its figures ('' while no job reports a node)."""
        status = slowest(self.board.statuses(self.group_id))
        return "" if status is None else f" | {describe_running(status)}"

    def print_due(self, now: Optional[float] = None) -> int:
        """Print a line for every job whose node or step changed and whose last line is old enough."""
        now = time.monotonic() if now is None else now
        printed = 0
        statuses = sorted(self.board.statuses(self.group_id), key=lambda s: s.job_id)
        for status in statuses:
            text = describe_running(status)
            last = self._printed.get(status.job_id)
            if not status.text or (last is not None and (last[0] == text or now - last[1] < self.interval)):
                continue
            self._printed[status.job_id] = (text, now)
            self.write(text)
            printed += 1
        running = {s.job_id for s in statuses}
        for job_id in [j for j, (_, when) in self._printed.items() if j not in running and now - when >= self.interval]:
            del self._printed[job_id]  # finished (or retried later): nothing to hold back any more
        return printed

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            self.print_due()
