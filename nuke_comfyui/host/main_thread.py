"""Hand work from worker threads to Nuke's main thread, the only thread allowed to touch nuke.

Nuke's rule: nodes, knobs and widgets live on the main thread. Scheduler callbacks run on worker
threads, so they pass plain data (node *names*, immutable snapshots) to `call_on_main`, which uses
`nuke.executeInMainThread`. Calling that from the main thread itself is wrong in Nuke (it defers
or deadlocks depending on the version), so on the main thread we call the function directly.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import nuke


def on_main_thread() -> bool:
    """True when running on the interpreter's main thread (Nuke's UI thread)."""
    return threading.current_thread() is threading.main_thread()


def call_on_main(fn: Callable[..., Any], *args: Any) -> None:
    """Run fn(*args) on the main thread: now if we are on it, else queued with executeInMainThread."""
    if on_main_thread():
        fn(*args)
    else:
        nuke.executeInMainThread(fn, args)
