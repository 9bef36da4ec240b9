""".nk save/open in the fake: what survives here is what survives in Nuke.

Source: the .nk text Nuke writes (node blocks, TCL-quoted values with `\\[` and `\\$` escaped,
`addUserKnob` for user knobs, `{{curve ...}}` for animation, the node stack for inputs).
"""

from __future__ import annotations

import nuke
import pytest

NASTY = 'ComfyUI said: [Errno 2] "C:\\models\\x.safetensors" costs $HOME {not json}\nline two'


def _round_trip(tmp_path):
    path = tmp_path / "shot.nk"
    nuke.scriptSave(str(path))
    nuke.scriptClear()
    assert nuke.allNodes() == []
    nuke.scriptOpen(str(path))
    return path.read_text()


def test_knob_text_round_trips_raw_whatever_it_holds(tmp_path):
    """Saved .nk values escape [ $ \\ and quotes (as the gizmo's `label "\\[value status]"`); hidden knobs are saved."""
    comfy = nuke.createNode("ComfyRender")
    comfy["variations"].setValue(3)
    comfy["job_state"].setValue(NASTY)
    name = comfy.name()
    text = _round_trip(tmp_path)
    again = nuke.toNode(name)
    assert again["variations"].value() == 3
    assert again["job_state"].getText() == NASTY
    assert not again["job_state"].visible()                   # hidden knobs are saved too
    assert "\\[Errno 2]" in text and "\\$HOME" in text           # escaped, never evaluated on load
    assert text.startswith("#! ") and "\nComfyRender {\n" in text


def test_user_knobs_animation_expressions_and_inputs_survive(tmp_path):
    """User knobs are saved as addUserKnob lines; animation as {{curve x.. v}}, expressions as {{expr}};
    inputs through the node stack (push/set), as in .nk files Nuke writes."""
    nuke.root()["first_frame"].setValue(1001)
    constant = nuke.nodes.Constant()
    comfy = nuke.createNode("ComfyRender")
    comfy.setInput(0, constant)
    tab = nuke.Tab_Knob("wf", "Workflow")
    steps = nuke.Int_Knob("steps", "Steps")
    steps.setRange(1, 150)
    denoise = nuke.Double_Knob("denoise", "Denoise")
    prompt = nuke.Multiline_Eval_String_Knob("prompt", "Prompt", "a [frame] cat")
    sampler = nuke.Enumeration_Knob("sampler", "Sampler", ["euler", "dpm 2m"])
    for knob in (tab, steps, denoise, prompt, sampler):
        comfy.addKnob(knob)
    steps.setValue(30)
    nuke.frame(1001)
    denoise.setAnimated()
    denoise.setValueAt(0.25, 1001)
    denoise.setValueAt(0.75, 1010)
    sampler.setValue("dpm 2m")
    seed = nuke.Int_Knob("seed")
    comfy.addKnob(seed)
    seed.setExpression("frame*2")
    name, constant_name = comfy.name(), constant.name()
    text = _round_trip(tmp_path)
    again = nuke.toNode(name)
    assert "addUserKnob {3 steps l Steps R 1.0 150.0}" in text
    assert again["steps"].value() == 30 and again["steps"]._range == (1.0, 150.0)
    assert again["denoise"].isAnimated() and again["denoise"].valueAt(1010) == 0.75
    assert again["denoise"].getKeyList() == [1001.0, 1010.0]
    assert again["seed"].hasExpression() and again["seed"].valueAt(5) == 10
    assert again["prompt"].getText() == "a [frame] cat" and again["prompt"].Class() == "Multiline_Eval_String_Knob"
    assert again["sampler"].value() == "dpm 2m" and again["sampler"].values() == ["euler", "dpm 2m"]
    assert again["wf"].label() == "Workflow"
    assert again.input(0) is nuke.toNode(constant_name)
    assert nuke.root()["first_frame"].value() == 1001
    assert nuke.scriptName() == str(tmp_path / "shot.nk")
    assert nuke.root()["name"].value() == str(tmp_path / "shot.nk")


def test_loading_never_evaluates_tcl(tmp_path):
    """Reading a script parses words; unescaped TCL in a value would be evaluated, which the fake refuses."""
    path = tmp_path / "bad.nk"
    path.write_text('Root {\n inputs 0\n}\nNoOp {\n inputs 1\n label "[exec rm -rf /]"\n}\n')
    with pytest.raises(RuntimeError, match="not modelled"):
        nuke.scriptOpen(str(path))


def test_save_as_refuses_to_overwrite_unless_asked(tmp_path):
    """Foundry API reference, nuke.scriptSaveAs(filename, overwrite): 1 overwrites, 0 refuses."""
    target = tmp_path / "a.nk"
    nuke.scriptSaveAs(str(target))
    with pytest.raises(RuntimeError, match="exists"):
        nuke.scriptSaveAs(str(target), overwrite=0)
    nuke.scriptSaveAs(str(target), overwrite=1)
