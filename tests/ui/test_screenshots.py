"""`nuke-comfyui screenshots`: the Job Results picture shows a running card with its live preview."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, List

import pytest

pytestmark = [pytest.mark.qt, pytest.mark.integration]


def _spread(image: Any, left: int, top: int, width: int, height: int) -> int:
    """How many distinct colours a region holds (a state swatch is one flat colour)."""
    colours = set()
    for x in range(left, left + width, 2):
        for y in range(top, top + height, 2):
            colours.add(image.pixel(x, y))
    return len(colours)


def test_the_results_picture_has_a_running_card_with_a_preview(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from nuke_comfyui.cli import screenshots_cmd
    from nuke_comfyui.ui.results_model import THUMB_HEIGHT
    from nuke_comfyui.ui.results_panel import JobResultsPanel

    checked: List[int] = []
    real_grab = screenshots_cmd.grab

    def grab(widget: Any, path: Path, size: tuple) -> Path:
        written = real_grab(widget, path, size)
        if isinstance(widget, JobResultsPanel):
            from nuke_comfyui.ui.qt import QtGui

            picture = QtGui.QImage(str(written))
            for job in widget.jobs():
                if str(getattr(job.state, "value", job.state)) == "running" and widget.model.has_preview(job.job_id):
                    rect = widget.grid.visualRect(widget.model.index(widget.model.row_of(job.job_id), 0))
                    corner = widget.grid.viewport().mapTo(widget, rect.topLeft())
                    # the top-left quarter of the card's picture: a flat swatch there has one colour
                    checked.append(_spread(picture, corner.x() + 8, corner.y() + 8, 60, THUMB_HEIGHT // 2 - 12))
        return written

    monkeypatch.setattr(screenshots_cmd, "grab", grab)
    assert screenshots_cmd.run(argparse.Namespace(out=str(tmp_path))) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results_panel.png", "settings_panel.png",
                                                          "status_panel.png"]
    assert checked and max(checked) > 8, checked
