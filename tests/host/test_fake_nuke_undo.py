"""The fake's modified flag, undo history, copy/paste, onCreate and makeGroup follow Foundry's documentation.

Sources are named per test. What the fake cannot know it refuses (reverting an edit).
"""

from __future__ import annotations

from pathlib import Path

import nuke
import pytest


def test_every_change_to_the_script_is_an_undoable_edit_that_marks_it_modified(tmp_path: Path):
    """Foundry: Root.modified() is the flag that makes Nuke ask to save; nuke.Undo records knob changes,
    renames, connections and node creation as undoable steps (user guide, "Undoing and Redoing")."""
    read = nuke.nodes.Read(name="Plate")
    nuke.scriptSaveAs(str(tmp_path / "a.nk"), 1)
    assert nuke.root().modified() is False and nuke.modified() is False
    mark = nuke.Undo.undoSize()
    read.setName("Plate_tmp")
    read.setName("Plate")  # away and back: two edits, although the script text is the same again
    assert nuke.Undo.undoSize() == mark + 2 and nuke.root().modified() is True
    nuke.scriptSave()
    assert nuke.root().modified() is False
    read.setSelected(True)  # selecting is not an edit
    assert nuke.root().modified() is False
    read["first"].setValue(read["first"].value())  # setting the same value is still a call Nuke may record
    assert nuke.root().modified() is True
    with pytest.raises(RuntimeError, match="not modelled"):
        nuke.undo()


def test_undo_disable_keeps_the_history_but_the_script_is_still_modified(tmp_path: Path):
    """Foundry: Undo.disable() "prevent[s] recording undos until matching enable()"."""
    node = nuke.nodes.NoOp()
    nuke.scriptSaveAs(str(tmp_path / "a.nk"), 1)
    mark = nuke.Undo.undoSize()
    nuke.Undo.disable()
    try:
        node["label"].setValue("quiet")
    finally:
        nuke.Undo.enable()
    assert nuke.Undo.undoSize() == mark and nuke.root().modified() is True


def test_opening_a_script_is_not_an_edit_and_runs_on_create_for_each_node(tmp_path: Path):
    """Foundry: scriptOpen raises RuntimeError when the file cannot be read; onCreate runs "when a node is
    created ... also when loading a script" (nuke.addOnCreate), with the node as nuke.thisNode()."""
    nuke.nodes.Blur(name="Soft")
    nuke.scriptSaveAs(str(tmp_path / "a.nk"), 1)
    seen = []
    nuke.addOnCreate(lambda: seen.append(nuke.thisNode().name()), nodeClass="Blur")
    nuke.scriptOpen(str(tmp_path / "a.nk"))
    assert seen == ["Soft"] and nuke.root().modified() is False
    with pytest.raises(RuntimeError, match=r"missing\.nk"):
        nuke.scriptOpen(str(tmp_path / "missing.nk"))


def test_copy_and_paste_keep_connections_among_the_copied_and_rename_what_is_taken(tmp_path: Path):
    """Foundry: nodeCopy(s) copies the selected nodes to a file or '%clipboard%'; nodePaste(s) pastes into
    the current group, the pasted nodes selected, a taken name given the next free number."""
    source = nuke.nodes.Constant(name="Source")
    blur = nuke.nodes.Blur(name="Soft")
    blur.setInput(0, source)
    grade = nuke.nodes.Grade(name="Look")
    grade.setInput(0, blur)
    blur.setSelected(True)
    grade.setSelected(True)
    created = []
    nuke.addOnCreate(lambda: created.append(nuke.thisNode().name()))
    nuke.nodeCopy("%clipboard%")
    nuke.scriptSaveAs(str(tmp_path / "a.nk"), 1)
    last = nuke.nodePaste("%clipboard%")
    assert last is not None and last.name() == "Look1"
    pasted_blur = nuke.toNode("Soft1")
    assert last.input(0) is pasted_blur and pasted_blur.input(0) is None  # the uncopied input is cut
    assert sorted(created) == ["Look1", "Soft1"]
    assert [n.name() for n in nuke.selectedNodes()] == ["Soft1", "Look1"]
    assert nuke.root().modified() is True


def test_make_group_copies_a_gizmo_with_its_knobs_and_internals():
    """Foundry: Gizmo.makeGroup() "Creates a Group node copy of the Gizmo node" (studio bake tools)."""
    gizmo = nuke.createNode("ComfyRender", inpanel=False)
    gizmo["variations"].setValue(3)
    group = gizmo.makeGroup()
    assert group.Class() == "Group" and group is not gizmo
    assert group["variations"].value() == 3 and "workflow_file" in group.knobs()
    assert sorted(n.Class() for n in group.nodes()) == ["Input"] * 8 + ["Output"]
    assert group.maxInputs() == 8
