"""The fake's knob types follow Foundry's documentation: each test names its source.

Text knobs (String_Knob, EvalString_Knob), Int_Knob's C int, Enumeration_Knob as an Array_Knob,
and removing a knob while its own callback runs.
"""

from __future__ import annotations

from pathlib import Path

import nuke
import pytest


def test_a_text_knob_takes_text_only():
    """Foundry's reference documents String_Knob.setValue(val, view) with a string; what Nuke makes of a
    list, None or a number is not documented, so the fake refuses them loudly."""
    knob = nuke.EvalString_Knob("prompt", "prompt")
    nuke.nodes.NoOp().addKnob(knob)
    for value in (5, None, ["a", "b"]):
        with pytest.raises(TypeError, match="a text knob takes a str"):
            knob.setValue(value)
    knob.setValue("5")
    assert knob.getText() == "5"


def test_int_knob_holds_a_32_bit_c_int():
    """NDK reference: Int_knob(Knob_Callback, int* p, name, label) stores a C int (32 bits)."""
    knob = nuke.Int_Knob("n", "n")
    nuke.nodes.NoOp().addKnob(knob)
    knob.setValue(2 ** 31 - 1)
    assert knob.value() == 2 ** 31 - 1
    with pytest.raises(OverflowError):
        knob.setValue(2 ** 31)
    with pytest.raises(OverflowError):
        knob.setValue(-(2 ** 31) - 1)


def test_a_pull_down_is_an_array_knob_of_indexes():
    """Foundry's reference: Enumeration_Knob derives from Unsigned_Knob and Array_Knob; it "stores a single
    value between 0 and some maximum, and manages a set of keywords ... written to the saved scripts".
    So value() is the word, getValue()/valueAt() the index as a float, setValue(int) picks by index."""
    knob = nuke.Enumeration_Knob("size", "size", ["512", "768", "1024"])
    nuke.nodes.NoOp().addKnob(knob)
    assert isinstance(knob, nuke.Array_Knob)
    knob.setValue(2)
    assert knob.value() == "1024" and knob.getValue() == 2.0
    knob.setValue("768")
    assert knob.value() == "768"
    with pytest.raises(ValueError):
        knob.setValue(768)  # an index, not the word "768"
    knob.setAnimated()
    knob.setValueAt("512", 1)
    knob.setValueAt(2, 2)
    assert knob.valueAt(1) == 0.0 and knob.valueAt(2) == 2.0
    assert knob.toScript() == "{{curve x1 0 x2 2}}"


def test_an_animated_pull_down_is_saved_as_a_curve_and_a_still_one_by_its_word(tmp_path: Path):
    """.nk files Nuke writes: an Enumeration's word (`colorspace sRGB`), animation as `{{curve ...}}`."""
    node = nuke.nodes.NoOp(name="Holder")
    still = nuke.Enumeration_Knob("still", "still", ["euler", "dpmpp_2m"])
    moving = nuke.Enumeration_Knob("moving", "moving", ["euler", "dpmpp_2m"])
    node.addKnob(still)
    node.addKnob(moving)
    still.setValue("dpmpp_2m")
    moving.setAnimated()
    moving.setValueAt(1, 10)
    nuke.scriptSaveAs(str(tmp_path / "s.nk"), 1)
    assert "still dpmpp_2m" in nuke._fake_script_text()
    nuke.scriptOpen(str(tmp_path / "s.nk"))
    again = nuke.toNode("Holder")
    assert again["still"].value() == "dpmpp_2m" and again["moving"].valueAt(10) == 1.0


def test_removing_the_knob_whose_callback_runs_is_refused():
    """Foundry documents no outcome for destroying the knob whose button press or knobChanged is being
    handled (the NDK's dynamic-knobs guide: replace_knobs is "tricksy"); the fake refuses it."""
    node = nuke.nodes.NoOp()
    button = nuke.PyScript_Knob("go", "go", "nuke.thisNode().removeKnob(nuke.thisKnob())")
    node.addKnob(button)
    with pytest.raises(RuntimeError, match="while its own callback runs"):
        button.execute()
    node.removeKnob(button)  # outside the callback it is fine
    assert "go" not in node.knobs()
