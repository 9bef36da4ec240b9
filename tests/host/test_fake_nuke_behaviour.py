"""The fake follows Foundry's documented behaviour: each test names the documentation or public source.

Knob text evaluation, group context, animation and expressions, knob constructors, the
command line, Read/Write knobs. Where the fake cannot know a behaviour, it raises.
"""

from __future__ import annotations

import struct
from pathlib import Path

import nuke
import nukescripts
import pytest


def test_string_knob_value_is_tcl_evaluated_and_get_text_is_raw():
    """Foundry API reference, String_Knob: value() "the evaluated value", getText() "the non-evaluated value"."""
    nuke.root()["name"].setValue("/shots/sh010/comp.nk")
    node = nuke.nodes.NoOp()
    knob = nuke.String_Knob("note", "note", "")
    node.addKnob(knob)
    knob.setValue("f[frame] in [file dirname [value root.name]] costs \\$5")
    nuke.frame(1001)
    assert knob.value() == "f1001 in /shots/sh010 costs $5"
    assert knob.getText() == "f[frame] in [file dirname [value root.name]] costs \\$5"


def test_unknown_tcl_commands_and_variables_raise():
    """TCL: an unknown command or variable is an error (so raw error text must never be evaluated)."""
    knob = nuke.String_Knob("msg", "msg", "Cannot find [model] for $USER")
    nuke.nodes.NoOp().addKnob(knob)
    with pytest.raises(RuntimeError, match="invalid command name"):
        knob.value()
    knob.setValue("C:\\Users\\shot")
    assert knob.value() == "C:Usersshot"            # backslash escapes eat Windows separators
    assert knob.getText() == "C:\\Users\\shot"


def test_eval_string_evaluate_at_a_frame():
    """Foundry API reference: EvalString_Knob.evaluate(self) "Evaluate the string, performing substitutions"
    takes no frame; String_Knob.value(self, oc) evaluates in an OutputContext (Nuke 12.2+ reference)."""
    knob = nuke.EvalString_Knob("path", "path", "/out/f.[frame].png")
    nuke.nodes.NoOp().addKnob(knob)
    nuke.frame(12)
    assert knob.evaluate() == "/out/f.12.png"
    with pytest.raises(TypeError):
        knob.evaluate(30)  # type: ignore[call-arg]
    context = nuke.OutputContext()
    context.setFrame(30)
    assert knob.value(context) == "/out/f.30.png"
    assert knob.getText(context) == "/out/f.[frame].png"
    assert nuke.frame() == 12


def test_file_knob_evaluated_value_resolves_against_the_project_directory(tmp_path):
    """Project Settings > project directory: relative file paths resolve against it (Nuke user guide)."""
    nuke.root()["project_directory"].setValue(str(tmp_path))
    read = nuke.nodes.Read(file="plates/p.%04d.png")
    nuke.frame(7)
    assert read["file"].value() == "plates/p.%04d.png"
    assert read["file"].getEvaluatedValue() == f"{tmp_path}/plates/p.0007.png"


def test_knob_constructors_follow_the_real_signatures():
    """Python Developer's Guide, Custom Panels: Int_Knob(name, label), Boolean_Knob(name, label, value),
    Enumeration_Knob(name, label, values), Text_Knob(name, label, text), PyScript_Knob(name, label, cmd)."""
    assert nuke.Int_Knob("steps", "Steps").value() == 0
    assert nuke.Double_Knob("cfg").label() == "cfg"
    assert nuke.Boolean_Knob("on", "On", True).value() is True
    assert nuke.Enumeration_Knob("s", "Sampler", ["euler", "dpm"]).value() == "euler"
    assert nuke.Text_Knob("t", "", "hello").value() == "hello"
    assert nuke.PyScript_Knob("b", "Go", "print(1)").command() == "print(1)"
    assert nuke.Multiline_Eval_String_Knob("prompt", "Prompt", "a cat").getText() == "a cat"
    assert nuke.Tab_Knob("tab", "Workflow").label() == "Workflow"
    with pytest.raises(TypeError):
        nuke.Int_Knob("steps", "Steps", 20)  # type: ignore[call-arg]


def test_add_remove_knobs_and_ranges_values():
    """Foundry API reference: Node.addKnob, Node.removeKnob ("ValueError if k is not found"),
    Array_Knob.setRange, Enumeration_Knob.setValues."""
    node = nuke.nodes.NoOp()
    steps = nuke.Int_Knob("steps", "Steps")
    steps.setRange(1, 150)
    node.addKnob(steps)
    assert node.knobs()["steps"] is steps and steps.node() is node
    enum = nuke.Enumeration_Knob("sampler", "Sampler", ["euler"])
    node.addKnob(enum)
    enum.setValues(["dpm", "euler", "ddim"])
    assert enum.value() == "euler" and enum.values() == ["dpm", "euler", "ddim"]
    node.removeKnob(steps)
    assert "steps" not in node.knobs()
    with pytest.raises(ValueError):
        node.removeKnob(steps)
    with pytest.raises(RuntimeError, match="not modelled"):
        node.removeKnob(node["label"])


def test_animation_keys_and_expressions():
    """Python Developer's Guide, Animation: setAnimated, setValueAt, valueAt/getValueAt, isAnimated,
    setExpression, hasExpression; curves hold their first/last value outside the keys."""
    node = nuke.nodes.NoOp()
    denoise = nuke.Double_Knob("denoise")
    node.addKnob(denoise)
    assert not denoise.isAnimated()
    nuke.frame(1001)
    with pytest.raises(RuntimeError, match="not modelled"):
        denoise.setValueAt(0.5, 1001)
    assert denoise.setAnimated()
    denoise.setValueAt(0.2, 1001)
    denoise.setValueAt(0.2, 1010)
    denoise.setValueAt(0.9, 1020)
    assert denoise.isAnimated() and not denoise.hasExpression()
    assert denoise.valueAt(1001) == 0.2 and denoise.getValueAt(1020) == 0.9
    assert denoise.valueAt(1005) == 0.2 and denoise.valueAt(900) == 0.2 and denoise.valueAt(2000) == 0.9
    with pytest.raises(RuntimeError, match="smooth interpolation"):
        denoise.valueAt(1015)
    steps = nuke.Int_Knob("steps")
    node.addKnob(steps)
    steps.setExpression("frame - 1000 + root.first_frame")
    nuke.frame(1004)
    assert steps.hasExpression() and steps.isAnimated()
    assert steps.value() == 5 and steps.valueAt(1010) == 11


def test_group_context_and_full_names():
    """Foundry API reference: Group.begin ("code that follows will be executed in the context of node"),
    Group.__enter__, nuke.toNode/allNodes resolve in the current group, Node.fullName, Node.parent."""
    group = nuke.nodes.Group()
    with group:
        inner = nuke.nodes.Blur()
        assert nuke.thisGroup() is group
        assert nuke.toNode("Blur1") is inner
    assert nuke.toNode("Blur1") is None
    assert nuke.toNode(f"{group.name()}.Blur1") is inner
    assert inner.fullName() == f"{group.name()}.Blur1" and inner.parent() is group
    assert nuke.allNodes() == [group] and nuke.allNodes(group=group) == [inner]
    group.begin()
    assert nuke.root().nodes() == [group]
    with nuke.root():
        assert nuke.toNode("Blur1") is None
    group.end()
    with pytest.raises(RuntimeError, match="not modelled"):
        inner.setInput(0, nuke.nodes.Constant())   # inputs never cross groups


def test_a_gizmo_button_runs_with_the_gizmo_as_current_group():
    """A PyScript_Knob on a gizmo runs in that gizmo's context (public plugins guard with `with nuke.root()`,
    e.g. Cryptomatte's and vinavfx/ComfyUI-for-Nuke's buttons); nodes made there live inside the gizmo."""
    comfy = nuke.createNode("ComfyRender")
    button = nuke.PyScript_Knob("probe", "probe", "nuke.nodes.Dot()\nnuke.toNode('Input1')['label'].setValue('x')")
    comfy.addKnob(button)
    button.execute()
    assert [n.Class() for n in comfy.nodes()] == ["Input"] * 8 + ["Output", "Dot"]
    assert nuke.allNodes() == [comfy]


def test_gizmo_internals_are_not_saved_but_group_children_are(tmp_path):
    """.nk files: a gizmo instance is saved as its knobs; a Group block holds its children up to end_group."""
    comfy = nuke.createNode("ComfyRender")
    with comfy:
        nuke.nodes.Dot()
    group = nuke.nodes.Group()
    with group:
        nuke.nodes.Blur()
    names = comfy.name(), group.name()
    nuke.scriptSave(str(tmp_path / "s.nk"))
    nuke.scriptOpen(str(tmp_path / "s.nk"))
    assert [n.Class() for n in nuke.toNode(names[0]).nodes()] == ["Input"] * 8 + ["Output"]
    assert [n.Class() for n in nuke.toNode(names[1]).nodes()] == ["Blur"]


def test_registered_panel_string_is_evaluated_in_a_bare_main():
    """nukescripts/panels.py: registerWidgetAsPanel pastes the string into
    PyCustom_Knob(name, "", "__import__('nukescripts').panels.WidgetKnob(" + widget + ")")."""
    nukescripts.panels.registerWidgetAsPanel("json.JSONDecoder", "Bare", "test.bare")
    with pytest.raises(NameError):
        nuke.menu("Pane").findItem("Bare").invoke()   # json is not bound in __main__
    nukescripts.panels.registerWidgetAsPanel("__import__('json').JSONDecoder", "Imported", "test.ok")
    panel = nukescripts.panels.restorePanel("test.ok")
    assert type(panel.widgets[-1]).__name__ == "JSONDecoder"


def test_terminal_mode_strips_a_trailing_frame_range():
    """Foundry, Using the Command-line: if the last argument is a number or frame range it is removed
    from sys.argv (nuke.rawArgs keeps it)."""
    assert nuke._fake_run_as_terminal(["h.py", "shot.nk", "1001-1100"]) == ["h.py", "shot.nk"]
    assert nuke._fake_run_as_terminal(["h.py", "shot.nk", "5"]) == ["h.py", "shot.nk"]
    assert nuke._fake_run_as_terminal(["h.py", "--frames=1001-1100"]) == ["h.py", "--frames=1001-1100"]
    assert nuke.rawArgs[-1] == "--frames=1001-1100"


def test_read_frame_mode_offsets_the_range(tmp_path):
    """Read node reference: frame_mode 'start at' N / 'offset' K move the clip; firstFrame() reports it."""
    read = nuke.nodes.Read(file=str(tmp_path / "p.%04d.png"), first=1, last=10)
    assert (read.firstFrame(), read.lastFrame()) == (1, 10)
    read["frame_mode"].setValue("start at")
    read["frame"].setValue("1001")
    assert (read.firstFrame(), read.lastFrame()) == (1001, 1010)
    read["frame_mode"].setValue("offset")
    read["frame"].setValue("100")
    assert (read.firstFrame(), read.lastFrame()) == (101, 110)
    for name in ("colorspace", "raw", "premultiplied", "on_error", "reload"):
        assert name in read.knobs()
    with pytest.raises(NameError):
        read["reformat"]        # not a Read knob


def test_from_user_text_reads_range_and_format(tmp_path):
    """File_Knob.fromUserText: as typed in the file browser; a Read picks up the frame range and format."""
    write = nuke.nodes.Write(file=str(tmp_path / "p.%04d.png"))
    write.setInput(0, nuke.nodes.Constant())
    nuke.execute(write, 1, 3)
    read = nuke.nodes.Read()
    assert read["format"].value().width() == 2048          # nuke.nodes.Read(file=...) reads nothing
    read["file"].fromUserText(f"{tmp_path}/p.%04d.png 1-3")
    assert (read["first"].value(), read["last"].value()) == (1, 3)
    assert (read["format"].value().width(), read["format"].value().height()) == (32, 18)


def _png_header(path: Path):
    data = path.read_bytes()
    _width, _height, depth, colour = struct.unpack(">IIBB", data[16:26])
    return depth, colour


def test_write_knobs_decide_what_is_written(tmp_path):
    """Write node reference: datatype exists once file_type is png ('8 bit'/'16 bit'); channels rgb/rgba."""
    write = nuke.nodes.Write(file=str(tmp_path / "a.%04d.png"))
    with pytest.raises(NameError):
        write["datatype"]
    write["file_type"].setValue("png")
    write["datatype"].setValue("16 bit")
    write["channels"].setValue("rgba")
    write.setInput(0, nuke.nodes.Constant())
    nuke.execute(write, 1, 1)
    assert _png_header(tmp_path / "a.0001.png") == (16, 6)     # 16-bit RGBA
    write["channels"].setValue("rgb")
    write["datatype"].setValue("8 bit")
    nuke.execute(write, 2, 2)
    assert _png_header(tmp_path / "a.0002.png") == (8, 2)      # 8-bit RGB


def test_write_refuses_what_it_cannot_render(tmp_path):
    """Proxy mode, file types other than PNG and EXR, and several views into one file are not
    modelled: the fake raises."""
    tiff = nuke.nodes.Write(file=str(tmp_path / "a.%04d.tif"), file_type="tiff")
    tiff.setInput(0, nuke.nodes.Constant())
    with pytest.raises(RuntimeError, match="not modelled"):
        nuke.execute(tiff, 1, 1)
    write = nuke.nodes.Write(file=str(tmp_path / "a.%04d.png"), file_type="png")
    write.setInput(0, nuke.nodes.Constant())
    nuke.root()["proxy"].setValue(True)
    with pytest.raises(RuntimeError, match="proxy"):
        nuke.execute(write, 1, 1)
    nuke.root()["proxy"].setValue(False)
    nuke.root()["views"].setValue("left right")
    with pytest.raises(RuntimeError, match="views"):
        nuke.execute(write, 1, 1)
    nuke.execute(write, 1, 1, 1, views=["left"])
    assert (tmp_path / "a.0001.png").is_file()


def test_ask_answers_only_what_the_test_plays_and_refuses_otherwise():
    """Foundry's Nuke Python API, nuke.ask(prompt): "Show a Yes/No dialog; returns True for Yes".
    A modal dialog waits for a user; the fake has none, so an unanswered ask raises."""
    state = nuke._fake_state()
    state.answers.extend([True, False])
    assert nuke.ask("Submit?") is True and nuke.ask("Really?") is False
    assert state.asked[-2:] == ["Submit?", "Really?"]
    with pytest.raises(RuntimeError, match="no answer queued"):
        nuke.ask("Again?")
