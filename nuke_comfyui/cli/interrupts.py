"""Ctrl-C and SIGTERM while the CLI holds a farm: recorded, never raised in the middle of a write.

Why not Python's default (KeyboardInterrupt wherever the main thread happens to be): a second
Ctrl-C landed inside the journal's transaction while the first one was cancelling the group, so
the transaction was never closed ("cannot start a transaction within a transaction"), the group
stayed `running` in the journal with a dead owner ("orphaned"), and prompts kept running on the
servers. Inside `deferred()` a signal only counts; the code that waits (cli/follow.py) reads the
count at points where stopping is safe:

- the first signal: cancel the group on every server and wait (bounded) for the servers;
- a second one: stop waiting for the servers now — once the cancel is in the journal;
- a repeat within `SAME_PRESS_S` counts once: `timeout -s INT` sends SIGINT to the process and
  then to its whole process group, so one timeout arrives as two signals microseconds apart.

Outside `deferred()` (and off the main thread, where no handler can be installed) signals behave
as Python's default. The exit code of an interrupted command is 130 (128 + SIGINT), whichever
of the two signals it was: a farm manager's SIGTERM is its Ctrl-C.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Any, Dict, Iterator, Optional

#: the exit code of an interrupted command
INTERRUPTED = 130
#: two signals closer than this are one press (see the module docstring)
SAME_PRESS_S = 0.1


class Interrupts:
    """How many distinct interrupts arrived while deferred, and which signal came first."""

    def __init__(self) -> None:
        # Re-entrant: the handler runs in the main thread between bytecodes, possibly while that
        # very thread holds this lock in wait_for_more (a second signal right after the first);
        # a plain Lock would then wait for itself for ever.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.count = 0
        self.first_signal: Optional[int] = None
        self._last_at = float("-inf")
        self._depth = 0
        self._previous: Dict[int, Any] = {}

    # -- the handler -----------------------------------------------------------------------------

    def record(self, signum: int, _frame: Any = None) -> None:
        """The signal handler: count the signal (a repeat within SAME_PRESS_S is the same press)."""
        now = time.monotonic()
        with self._changed:
            if now - self._last_at >= SAME_PRESS_S:
                self.count += 1
                if self.first_signal is None:
                    self.first_signal = signum
            self._last_at = now
            self._changed.notify_all()

    # -- readers ---------------------------------------------------------------------------------

    def fired(self) -> bool:
        return self.count > 0

    def wait_for_more(self, than: int, timeout: float) -> bool:
        """Block up to `timeout` s for the count to exceed `than`; True if it did."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.count <= than:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def exit_code(self) -> int:
        """130 (128 + SIGINT) for Ctrl-C and for SIGTERM alike: "interrupted" is what a caller needs to know."""
        return INTERRUPTED

    def signal_name(self) -> str:
        return "SIGTERM" if self.first_signal == getattr(signal, "SIGTERM", None) else "Ctrl-C"

    # -- installing ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def deferred(self) -> Iterator[Interrupts]:
        """Record SIGINT and SIGTERM instead of raising, for the duration (nestable, main thread only)."""
        outermost = self._depth == 0
        if outermost:
            with self._lock:  # a new command in this process (tests run several) starts from none
                self.count, self.first_signal, self._last_at = 0, None, float("-inf")
        installed = outermost and self._install()
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            if installed:
                self._restore()

    def _install(self) -> bool:
        if threading.current_thread() is not threading.main_thread():
            return False  # tests run commands in threads; signals go to the main thread anyway
        for name in ("SIGINT", "SIGTERM"):
            signum = getattr(signal, name, None)
            if signum is not None:
                self._previous[signum] = signal.signal(signum, self.record)
        return True

    def _restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()


#: the process's one instance: `render`, `demo`, `resume`, `retry` and farm tasks share it
INTERRUPTS = Interrupts()
