"""Inside Nuke the Qt binding is Nuke's own, whatever QT_API a studio sets globally (qtpy/matplotlib's variable).

Each case runs in a fresh interpreter, because the binding is chosen when ui/qt is first imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from nuke_comfyui.ui.qt import BINDING, binding_inside_nuke

ROOT = Path(__file__).resolve().parents[2]


def _in_fresh_python(code: str, **env: str) -> str:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", **env}
    environ.pop("QT_PREFERRED_BINDING", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_inside_nuke_qt_api_set_to_a_binding_nuke_lacks_is_ignored() -> None:
    """Nuke imported its binding at start-up; QT_API=pyqt5 (not shipped with Nuke) must not be tried."""
    code = ("import sys, types, os; sys.modules['nuke'] = types.SimpleNamespace(NUKE_VERSION_MAJOR=15); "
            f"import {BINDING}; from nuke_comfyui.ui import qt; "
            "print(qt.BINDING, os.environ.get('QT_PREFERRED_BINDING'))")
    assert _in_fresh_python(code, QT_API="pyqt5") == f"{BINDING} None"  # and the environment is left as it was


def test_outside_nuke_qt_api_still_chooses() -> None:
    code = "from nuke_comfyui.ui import qt; print(qt.BINDING)"
    assert _in_fresh_python(code, QT_API=BINDING.lower()) == BINDING


@pytest.mark.parametrize("major, imported, expected", [
    (16, {}, "PySide6"), (15, {}, "PySide2"), (14, {"PySide6": object()}, "PySide6"), (None, {}, None)])
def test_the_binding_nuke_has(major: object, imported: dict, expected: object) -> None:
    nuke = types.SimpleNamespace(NUKE_VERSION_MAJOR=major) if major is not None else None
    modules = {"nuke": nuke, **imported} if nuke is not None else dict(imported)
    assert binding_inside_nuke(modules) == expected
