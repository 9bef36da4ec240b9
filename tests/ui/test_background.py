"""The background runner under a busy pool: every queued task runs, delivers, and is let go.

Why: once in CI (PySide2 5.15, Python 3.9) a pool thread ran a task whose Python object had
been freed (`run()` found no `_fn`): PySide2 does not reliably keep a Python QRunnable alive
between `QThreadPool.start` and `run()`. The runner now holds each task until its `run()` ends.
This test queues tasks behind the blocked pool and forces collections; it checks that
every task delivers and that the runner lets go of each, but it did not reproduce the CI failure
itself (that depends on timing this test cannot force).
"""

from __future__ import annotations

import gc
import threading
from typing import Any, List

import pytest

from tests.ui.conftest import wait_until

pytestmark = pytest.mark.qt


def test_queued_tasks_survive_garbage_collection_and_deliver(qtbot: Any) -> None:
    from nuke_comfyui.ui import background

    pool = background.worker_pool()
    threads = pool.maxThreadCount()
    pool.setMaxThreadCount(1)
    try:
        gate = threading.Event()
        results: List[Any] = []
        errors: List[BaseException] = []
        background.run_in_background(lambda: gate.wait(10), results.append, errors.append)
        for n in range(20):
            background.run_in_background(lambda n=n: n * n, results.append, errors.append)
        for _ in range(3):
            gc.collect()
        gate.set()
        wait_until(lambda: len(results) + len(errors) == 21)
        assert errors == []
        assert sorted(r for r in results if r is not True) == sorted(n * n for n in range(20))
        assert background.wait_for_background(5000)
        assert not background._RUNNING  # every task let go once its run() ended
    finally:
        pool.setMaxThreadCount(threads)


class _Occupant:
    """A Python task holding one of Qt's global pool threads until released (what our own tasks
    did while waiting for the GIL)."""

    def __init__(self) -> None:
        from nuke_comfyui.ui.qt import QtCore

        self.started, self.release = threading.Event(), threading.Event()
        occupant = self

        class Task(QtCore.QRunnable):
            def run(self) -> None:
                occupant.started.set()
                occupant.release.wait(10)

        self.task = Task()


def test_background_work_never_waits_on_qts_global_pool(qtbot: Any) -> None:
    """Qt runs its own work on the global pool (a smooth QImage.scaled of a 512 px preview is split
    into segments there, and the scaling thread waits for them holding the GIL). In CI our tasks,
    queued on that pool and waiting for the GIL, took its threads while a preview was being scaled:
    a deadlock that hung a whole test leg. Now our work runs on our own pool: the global pool's
    threads all being busy delays none of it, and none of ours ever holds a global pool thread."""
    from nuke_comfyui.ui import background
    from nuke_comfyui.ui.qt import QtCore

    global_pool = QtCore.QThreadPool.globalInstance()
    threads = global_pool.maxThreadCount()
    global_pool.setMaxThreadCount(1)
    occupant = _Occupant()
    try:
        global_pool.start(occupant.task)
        assert occupant.started.wait(5)
        ran = threading.Event()
        background.run_in_background(ran.set)
        assert ran.wait(5), "background work queued behind Qt's own global pool"
    finally:
        occupant.release.set()
        global_pool.waitForDone(5000)
        global_pool.setMaxThreadCount(threads)
