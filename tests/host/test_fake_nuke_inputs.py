"""The fake's group inputs, Input nodes and Invert, each following the Nuke source named in its test.

host/image_arrows relies on these: a group has one input per Input node inside it, numbered in
creation order and labelled by the Input's name; a gizmo's Input nodes come from its .gizmo file
again when a script is reopened, while the script restores the gizmo's connections.
"""

from __future__ import annotations

from pathlib import Path

import nuke
import pytest
from PIL import Image


def test_each_input_node_adds_a_numbered_input_to_its_group() -> None:
    """Foundry's Input node reference: "Adds an input arrow to a Group node"; keheka "The Hidden
    Number In Nuke": the hidden `number` knob is given in creation order, starting at 0."""
    group = nuke.nodes.Group()
    assert group.maxInputs() == 0
    with group:
        first, second = nuke.nodes.Input(), nuke.nodes.Input()
    assert group.maxInputs() == 2
    assert [first["number"].value(), second["number"].value()] == [0, 1]
    with pytest.raises(RuntimeError, match="not modelled"):
        first["number"].setValue(1)  # renumbering by hand: the fake refuses
    assert nuke.nodes.Input()["number"].value() == 0 and nuke.root().maxInputs() == 0  # root has no inputs


def test_arrow_labels_are_the_input_names_without_a_leading_input() -> None:
    """keheka "The Hidden Number In Nuke": "Anything after 'Input' in the node name is what gets shown as
    the pipe label"; Nukepedia "Working with Pipe Numbers": "Input name = pipe name"."""
    group = nuke.nodes.Group()
    with group:
        for _ in range(3):
            nuke.nodes.Input()
        nuke.toNode("Input2").setName("mask")
        nuke.toNode("Input3").setName("Inputdepth")
    assert nuke._fake_input_labels(group) == ["1", "mask", "depth"]


def test_deleting_the_last_input_node_removes_the_last_input_only() -> None:
    """Deleting the last-numbered Input removes that input and its connection; deleting another one
    makes Nuke renumber the rest, which the fake does not model and refuses."""
    group = nuke.nodes.Group()
    with group:
        inputs = [nuke.nodes.Input() for _ in range(3)]
    plate, matte = nuke.nodes.Constant(), nuke.nodes.Constant()
    group.setInput(0, plate)
    group.setInput(2, matte)
    with pytest.raises(RuntimeError, match="not modelled"):
        nuke.delete(inputs[0])
    nuke.delete(inputs[2])
    assert group.maxInputs() == 2 and group.input(0) is plate and group.input(2) is None
    with group:
        again = nuke.nodes.Input()
    assert again["number"].value() == 2 and group.input(2) is None  # a new input starts unconnected


def test_gizmo_inputs_come_from_its_file_and_connections_from_the_script(tmp_path: Path) -> None:
    """Foundry "Creating and Accessing Gizmos": saved scripts hold the gizmo's name and controls, its
    definition is read from the .gizmo file; the .nk stack restores its connections. Renamed or
    deleted Input nodes of an instance are therefore back as the file has them after reopening."""
    comfy = nuke.createNode("ComfyRender")
    assert comfy.maxInputs() == 8 and nuke._fake_input_labels(comfy)[:2] == ["1", "2"]
    plate, matte = nuke.nodes.Constant(), nuke.nodes.Constant()
    comfy.setInput(0, plate)
    comfy.setInput(1, matte)
    with comfy:
        nuke.toNode("Input2").setName("mask")
        while comfy.maxInputs() > 2:
            nuke.delete(max((n for n in comfy.nodes() if n.Class() == "Input"), key=lambda n: n["number"].value()))
    names = comfy.name(), plate.name(), matte.name()
    nuke.scriptSave(str(tmp_path / "s.nk"))
    nuke.scriptOpen(str(tmp_path / "s.nk"))
    again = nuke.toNode(names[0])
    assert again.maxInputs() == 8 and nuke._fake_input_labels(again)[:2] == ["1", "2"]
    assert again.input(0).name() == names[1] and again.input(1).name() == names[2]


def test_a_saved_connection_to_an_input_the_gizmo_lacks_is_refused(tmp_path: Path) -> None:
    """What Nuke does with a saved connection beyond a reopened gizmo's inputs is not documented."""
    script = tmp_path / "s.nk"
    script.write_text("Root {\n inputs 0\n}\nConstant {\n inputs 0\n name C1\n}\nset N1 [stack 0]\n"
                      + "push $N1\n" * 9 + "ComfyRender {\n inputs 9\n name ComfyRender1\n}\n")
    with pytest.raises(RuntimeError, match="not modelled"):
        nuke.scriptOpen(str(script))


def test_group_connections_are_restored_after_its_input_nodes_load(tmp_path: Path) -> None:
    """A Group block precedes its children (Input nodes included) up to end_group; Nuke restores the
    group's connections all the same."""
    group = nuke.nodes.Group()
    with group:
        nuke.nodes.Input()
        nuke.nodes.Input()
    source = nuke.nodes.Constant()
    group.setInput(1, source)
    names = group.name(), source.name()
    nuke.scriptSave(str(tmp_path / "g.nk"))
    nuke.scriptOpen(str(tmp_path / "g.nk"))
    again = nuke.toNode(names[0])
    assert again.maxInputs() == 2 and again.input(0) is None and again.input(1).name() == names[1]


def test_invert_on_alpha_writes_one_minus_alpha(tmp_path: Path) -> None:
    """Foundry's Invert reference (Nuke 8.0 guide, Color nodes > Invert): "subtract its values from one",
    only in `channels` (default all). A mask input or mix below 1 is not modelled."""
    source = tmp_path / "src.png"
    Image.new("RGBA", (2, 1), (200, 100, 50, 64)).save(source)
    read = nuke.nodes.Read(file=str(source))
    invert = nuke.nodes.Invert()
    assert invert["channels"].value() == "all" and invert.maxInputs() == 2
    invert["channels"].setValue("alpha")
    invert.setInput(0, read)
    write = nuke.nodes.Write(file=str(tmp_path / "out.png"), file_type="png")
    write["channels"].setValue("rgba")
    write.setInput(0, invert)
    nuke.execute(write, 1, 1)
    with Image.open(tmp_path / "out.png") as out:
        assert out.getpixel((0, 0)) == (200, 100, 50, 255 - 64)
    invert["mix"].setValue(0.5)
    with pytest.raises(RuntimeError, match="not modelled"):
        nuke.execute(write, 1, 1)
