"""Qt test set-up: offscreen rendering and the binding chosen by QT_API (pyside6 or pyside2).

Runs before any panel module imports Qt.py, so `QT_API=pyside2 .venv-pyside2/bin/python -m pytest
-m qt tests/ui` really exercises PySide2. Every test module here sets `pytestmark = pytest.mark.qt`.
"""

from __future__ import annotations

import os
import time
from typing import Callable

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_API = os.environ.get("QT_API", "").lower()
if _API and not os.environ.get("QT_PREFERRED_BINDING"):
    os.environ["QT_PREFERRED_BINDING"] = {"pyside2": "PySide2", "pyside6": "PySide6"}.get(_API, _API)

pytest.importorskip("Qt")


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `predicate` while pumping Qt events; fail with a clear message at the deadline."""
    from nuke_comfyui.ui.qt import QtCore

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        QtCore.QCoreApplication.processEvents()
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture(autouse=True)
def _drain_thread_pool(qapp: object) -> object:
    """Let background tasks of one test finish before the next starts (no cross-test leaks)."""
    yield
    from nuke_comfyui.ui.background import wait_for_background
    from nuke_comfyui.ui.qt import QtCore

    wait_for_background(10000)
    QtCore.QCoreApplication.processEvents()
