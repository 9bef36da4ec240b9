"""Opening a Comfy node's panel, or a script, edits nothing that was already right.

Fake-nuke behaviours relied on (tests/host/test_fake_nuke_undo.py): every setValue, setInput,
setName, node creation or deletion in the script is an undoable edit that marks it modified, while
opening or saving a script leaves it unmodified; opening a panel runs knobChanged with `showPanel`
(tests/host/test_fake_nuke_callbacks.py); a gizmo's internals come back from its file on open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nuke
import pytest
from offline_farm import offline_session

from nuke_comfyui.host import arrival_hooks, image_arrows, knobs, menu_setup, workflow_tab

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def gui() -> None:
    offline_session()
    arrival_hooks.register()  # init.py's onCreate / onScriptLoad hooks
    menu_setup.run_menu()  # knobChanged (showPanel) and the re-attach hook, as in a GUI session


def _saved_node(tmp_path: Path, workflow: str = "img2img.json") -> Any:
    node = nuke.createNode(knobs.NODE_CLASS)
    plate = nuke.nodes.Constant(name="Plate")
    node.setInput(0, plate)
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(ROOT / "examples" / workflow))
    nuke.scriptSaveAs(str(tmp_path / "shot.nk"), 1)
    assert nuke.root().modified() is False
    return node


def _no_edits_on_opening_the_panel_twice(node: Any) -> None:
    mark = nuke.Undo.undoSize()
    nuke._fake_open_panel(node)
    nuke._fake_open_panel(node)
    assert nuke._fake_state().undo_items[mark:] == []
    assert nuke.root().modified() is False


def test_opening_an_unchanged_nodes_panel_twice_edits_nothing(gui: None, tmp_path: Path) -> None:
    node = _saved_node(tmp_path)
    assert nuke._fake_input_labels(node) == ["Nuke_Input"]
    _no_edits_on_opening_the_panel_twice(node)
    assert node.input(0) is nuke.toNode("Plate")


def test_a_reopened_script_is_unmodified_with_its_labels_right_and_panels_edit_nothing(gui: None,
                                                                                       tmp_path: Path) -> None:
    _saved_node(tmp_path)
    nuke.scriptOpen(str(tmp_path / "shot.nk"))  # the gizmo file brings its 8 Input nodes back
    node = nuke.toNode("ComfyRender1")
    assert nuke._fake_input_labels(node) == ["Nuke_Input"]
    assert nuke.root().modified() is False and nuke.Undo.undoSize() == 0  # label fixes are not steps
    assert node.input(0) is nuke.toNode("Plate")
    _no_edits_on_opening_the_panel_twice(node)


def test_a_workflow_that_does_not_load_is_noted_once_not_at_every_opening(gui: None, tmp_path: Path) -> None:
    node = _saved_node(tmp_path)
    Path(tmp_path / "gone.json").write_text("{}")
    node[knobs.WORKFLOW].setValue(str(tmp_path / "gone.json"))
    nuke._fake_open_panel(node)
    notes = node[workflow_tab.NOTES].value()
    nuke.scriptSave()
    _no_edits_on_opening_the_panel_twice(node)
    assert node[workflow_tab.NOTES].value() == notes


def test_a_workflow_changed_behind_the_panels_back_is_fitted_when_it_opens(gui: None, tmp_path: Path) -> None:
    node = _saved_node(tmp_path)
    node[knobs.WORKFLOW].setValue(str(ROOT / "examples" / "txt2img_variations.json"))  # a script: no knobChanged
    nuke.scriptSave()
    nuke._fake_open_panel(node)
    assert node.input(0) is None and image_arrows.saved_loaders(node) == []  # no loader: its connection goes
    assert "disconnected Plate" in node[workflow_tab.NOTES].value()
    assert nuke.root().modified() is True  # a real change, so a real edit
