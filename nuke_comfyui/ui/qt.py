"""The one place the panels import Qt from, so PySide2 (Nuke 14-15) and PySide6 (Nuke 16+) both work.

Everything goes through Qt.py. Outside Nuke the binding can be chosen with `QT_PREFERRED_BINDING`
(Qt.py's own variable) or `QT_API` (`pyside2` / `pyside6`, the pytest-qt convention). Inside Nuke
the binding is the one Nuke ships, whatever those variables say: some studios set `QT_API`
(qtpy's and matplotlib's variable) globally, e.g. to pyqt5, which Nuke does not ship. Nuke's
binding is the one already imported (Nuke's own start-up imports it), else PySide6 for Nuke 16+
and PySide2 before; the variable is set only while Qt.py is imported, so other tools see the
environment unchanged. Panels write enums fully scoped (`QtCore.Qt.AlignmentFlag.AlignLeft`),
which both PySide2 5.13 and PySide6 accept, and use the helpers below for the few things whose
spelling differs between bindings: `exec_`, `enum_int` and `combine_flags` (never `a | b` or
`int(flags)` directly: PySide2 5.13 on a modern Python raises there).
"""

from __future__ import annotations

import functools
import operator
import os
import sys
from typing import Any, Mapping, Optional

_API_TO_BINDING = {"pyside2": "PySide2", "pyside6": "PySide6", "pyqt5": "PyQt5", "pyqt6": "PyQt6"}


def binding_inside_nuke(modules: Mapping[str, Any]) -> Optional[str]:
    """The binding Nuke ships when running inside Nuke (its `nuke` module imported), else None."""
    nuke = modules.get("nuke")
    if nuke is None:
        return None
    for name in ("PySide6", "PySide2"):
        if modules.get(name) is not None:
            return name
    major = getattr(nuke, "NUKE_VERSION_MAJOR", None)
    return ("PySide6" if major >= 16 else "PySide2") if isinstance(major, int) else None


_NUKE_BINDING = binding_inside_nuke(sys.modules)
_SAVED_PREFERENCE = os.environ.get("QT_PREFERRED_BINDING")
if _NUKE_BINDING is not None:
    os.environ["QT_PREFERRED_BINDING"] = _NUKE_BINDING
elif not _SAVED_PREFERENCE and os.environ.get("QT_API", "").lower() in _API_TO_BINDING:
    os.environ["QT_PREFERRED_BINDING"] = _API_TO_BINDING[os.environ["QT_API"].lower()]

from Qt import QtCore, QtGui, QtWidgets  # noqa: E402  (the binding choice above must come first)
from Qt import __binding__ as BINDING  # noqa: E402

if _NUKE_BINDING is not None:  # leave Nuke's environment as it was for every other tool
    if _SAVED_PREFERENCE is None:
        os.environ.pop("QT_PREFERRED_BINDING", None)
    else:
        os.environ["QT_PREFERRED_BINDING"] = _SAVED_PREFERENCE

Signal = QtCore.Signal
Slot = QtCore.Slot
Qt = QtCore.Qt

__all__ = [
    "BINDING",
    "Qt",
    "QtCore",
    "QtGui",
    "QtWidgets",
    "Signal",
    "Slot",
    "binding_inside_nuke",
    "combine_flags",
    "ensure_application",
    "enum_int",
    "exec_",
    "is_gui_thread",
]


def exec_(obj: Any, *args: Any) -> Any:
    """Run a dialog, menu or application loop: PySide6 spells it `exec`, PySide2 only has `exec_`."""
    method = getattr(obj, "exec", None) or obj.exec_
    return method(*args)


def enum_int(value: Any) -> int:
    """An enum member or int as int: PySide6's plain Enums (CheckState) only offer `.value`."""
    try:
        return int(value)
    except TypeError:
        return int(value.value)


def combine_flags(*members: Any) -> Any:
    """`a | b | c` for Qt flag enums.

    PySide2 5.13 on Python 3.10+ cannot OR enum members (its flag types lean on implicit int
    conversion Python removed), so there the members are summed as ints and rebuilt as the enum.
    """
    try:
        return functools.reduce(operator.or_, members)
    except (TypeError, SystemError):
        return type(members[0])(functools.reduce(operator.or_, (int(m) for m in members)))


def ensure_application(argv: Optional[list] = None) -> QtWidgets.QApplication:
    """The running QApplication (Nuke's, or pytest-qt's), or a new one for standalone tools."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(list(argv or ["nuke-comfyui"]))
    return app


def is_gui_thread() -> bool:
    """True when called on the thread that owns the QApplication (the only one allowed to touch widgets)."""
    app = QtCore.QCoreApplication.instance()
    return app is not None and QtCore.QThread.currentThread() is app.thread()
