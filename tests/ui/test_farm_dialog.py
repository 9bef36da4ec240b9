"""The Submit to farm dialog (pytest-qt, offscreen, on PySide6 and PySide2): values in, FarmChoices out."""

from __future__ import annotations

import pytest

from nuke_comfyui.farm_bundle.choices import FarmChoices
from nuke_comfyui.farm_bundle.scheduling import Scheduling

pytestmark = pytest.mark.qt


def _dialog(qtbot, **changes):  # type: ignore[no-untyped-def]
    from nuke_comfyui.ui.farm_dialog import FarmSubmitDialog

    options = {"deadline_found": True, "has_frames": True, "variations": 4}
    options.update(changes)
    dialog = FarmSubmitDialog("ComfyRender1: submit to farm",
                              FarmChoices(frames_per_task=10, bundle_dir="/shots/farm/ComfyRender1"), **options)
    qtbot.addWidget(dialog)
    return dialog


def test_defaults_are_shown_and_read_back_unchanged(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot)
    choices = dialog.choices()
    assert choices == FarmChoices(layout="thin", frames_per_task=10, variations_per_task=4, scheduling=Scheduling(),
                                  bundle_dir="/shots/farm/ComfyRender1", submit=False)


def test_every_field_reaches_the_choices_and_submit_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot)
    dialog.layout_box.setCurrentIndex(1)
    dialog.frames_per_task.setValue(5)
    dialog.variations_per_task.setValue(2)
    dialog.priority.setValue(90)
    dialog.max_retries.setValue(1)
    dialog.max_failed.setValue(3)
    dialog.suspended.setChecked(True)
    dialog.folder.setText("/tmp/bundles/x")
    dialog.submit_button.click()
    assert dialog.result() == 1  # accepted
    assert dialog.choices() == FarmChoices(
        layout="gpu", frames_per_task=5, variations_per_task=2,
        scheduling=Scheduling(priority=90, max_retries_per_task=1, max_failed_tasks=3, suspended=True),
        bundle_dir="/tmp/bundles/x", submit=True)


def test_without_deadline_only_saving_is_offered_and_an_empty_folder_is_refused(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, deadline_found=False, has_frames=False, variations=1)
    assert not dialog.submit_button.isEnabled() and "not installed" in dialog.note.text()
    assert not dialog.frames_per_task.isEnabled() and not dialog.variations_per_task.isEnabled()
    dialog.folder.setText("  ")
    dialog.save_button.click()
    assert dialog.result() == 0 and "Choose the folder" in dialog.note.text()
    dialog.folder.setText("/b")
    dialog.save_button.click()
    assert dialog.result() == 1
    choices = dialog.choices()
    assert not choices.submit and choices.frames_per_task is None and choices.variations_per_task is None


def test_a_variation_only_render_defaults_to_one_variation_per_task(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, has_frames=False, variations=6)
    assert dialog.variations_per_task.value() == 1 and dialog.variations_per_task.maximum() == 6
