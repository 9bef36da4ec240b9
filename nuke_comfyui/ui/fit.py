"""Widgets sized to what they must show whole: a line edit never cuts its placeholder off.

Why: a placeholder is the field's instructions ("comma separated; empty accepts every job type");
cut at the panel's width it reads as a different instruction. Qt sizes a QLineEdit from a fixed
character count, not from its placeholder, so the minimum width is set from the text itself.
"""

from __future__ import annotations

from nuke_comfyui.ui.qt import QtWidgets

#: the line edit's frame and text margins, both sides, in pixels (Fusion and Nuke's style use ~10)
EDIT_MARGINS = 16


def fit_placeholder(edit: QtWidgets.QLineEdit) -> QtWidgets.QLineEdit:
    """Give `edit` at least the width its placeholder text needs; returns it (for chaining)."""
    text = edit.placeholderText()
    if text:
        edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(text) + EDIT_MARGINS)
    return edit
