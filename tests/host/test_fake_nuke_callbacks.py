"""The fake's knobChanged callbacks follow Nuke's own callbacks.py and Foundry's addKnobChanged reference.

Sources: Nuke's `callbacks.py` (_addCallback lists a callback once per node class, _doCallbacks
runs the class's callbacks then '*', filtered by `node=`); Foundry Python API reference,
nuke.addKnobChanged (13.x-16.x): "Add code to execute when the user changes a knob. The knob is
available in nuke.thisKnob() and the node in nuke.thisNode(). This is also called with dummy
knobs when the control panel is opened or when the inputs to the node changes."
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple

import nuke
import pytest


def _recorder(seen: List[Tuple[str, str, str]], tag: str) -> Any:
    def call() -> None:
        seen.append((tag, nuke.thisNode().name(), nuke.thisKnob().name()))
    return call


def test_user_edit_runs_class_callbacks_then_star_with_this_node_and_knob():
    """callbacks.py _doCallbacks: the node class's list first, then '*'; context via thisNode/thisKnob."""
    seen: List[Tuple[str, str, str]] = []
    star, comfy, other = _recorder(seen, "star"), _recorder(seen, "comfy"), _recorder(seen, "blur")
    nuke.addKnobChanged(star)
    nuke.addKnobChanged(comfy, nodeClass="ComfyRender")
    nuke.addKnobChanged(other, nodeClass="Blur")
    node = nuke.createNode("ComfyRender", inpanel=False)
    nuke._fake_user_edit(node["variations"], 3)
    assert node["variations"].value() == 3
    assert seen == [("comfy", node.name(), "variations"), ("star", node.name(), "variations")]
    with pytest.raises(RuntimeError, match="outside a knob callback"):
        nuke.thisKnob()


def test_a_callback_is_listed_once_and_can_be_removed_and_filtered_by_node():
    """callbacks.py _addCallback: adding the same (call, args, kwargs, node) again keeps one entry;
    removeKnobChanged with the same arguments removes it; `node=` limits it to that node."""
    seen: List[Tuple[str, str, str]] = []
    call = _recorder(seen, "once")
    nuke.addKnobChanged(call, nodeClass="ComfyRender")
    nuke.addKnobChanged(call, nodeClass="ComfyRender")
    first, second = nuke.createNode("ComfyRender", inpanel=False), nuke.createNode("ComfyRender", inpanel=False)
    only_second = _recorder(seen, "second")
    nuke.addKnobChanged(only_second, nodeClass="ComfyRender", node=second)
    nuke._fake_user_edit(first["variations"], 2)
    assert seen == [("once", first.name(), "variations")]
    nuke.removeKnobChanged(call, nodeClass="ComfyRender")
    nuke._fake_user_edit(second["variations"], 2)
    assert seen[1:] == [("second", second.name(), "variations")]
    with pytest.raises(ValueError, match="callable"):
        nuke.addKnobChanged("not callable")  # type: ignore[arg-type]


def test_programmatic_set_value_runs_no_callback_and_open_panel_sends_show_panel():
    """Reference 13-16: knobChanged is for the user's changes (plus dummy knobs when the panel opens);
    the fake (15.1) does not model the panel-open case of programmatic changes, so it runs none."""
    seen: List[Tuple[str, str, str]] = []
    nuke.addKnobChanged(_recorder(seen, "c"), nodeClass="ComfyRender")
    node = nuke.createNode("ComfyRender", inpanel=False)
    node["workflow_file"].setValue("/tmp/a.json")
    assert seen == []
    nuke._fake_open_panel(node)
    assert seen == [("c", node.name(), "showPanel")]


def test_create_node_in_the_gui_opens_the_panel_and_sends_show_panel():
    """Foundry's reference for nuke.createNode: "inpanel: Optional. If GUI is present, this parameter
    can be used to open the control panel for the node. Default is True"; addKnobChanged: "also
    called with dummy knobs when the control panel is opened". nuke.nodes.X() opens no panel."""
    seen: List[Tuple[str, str, str]] = []
    nuke.addKnobChanged(_recorder(seen, "c"), nodeClass="ComfyRender")
    node = nuke.createNode("ComfyRender")
    assert seen == [("c", node.name(), "showPanel")]
    nuke.nodes.ComfyRender()
    assert len(seen) == 1
    nuke._fake_reset(gui=False)
    nuke.pluginAddPath(str(Path(__file__).resolve().parents[2] / "gizmos"), addToSysPath=False)
    nuke.addKnobChanged(_recorder(seen, "c"), nodeClass="ComfyRender")
    nuke.createNode("ComfyRender")  # nuke -t: no panel, no callback
    assert len(seen) == 1


def test_edits_the_fake_cannot_know_are_refused():
    """Buttons are pressed (knob.execute), not edited; no artist without a GUI; a pull-down takes only
    its items; the current group inside knobChanged is undocumented, so it refuses without `with`."""
    node = nuke.createNode("ComfyRender")
    with pytest.raises(RuntimeError, match="not modelled"):
        nuke._fake_user_edit(node["render_button"], "x")
    with pytest.raises(ValueError, match="Bad value"):
        nuke._fake_user_edit(node["seed_strategy"], "no-such-strategy")
    made: List[str] = []

    def creates() -> None:
        with nuke.root():
            made.append(nuke.nodes.NoOp().name())
        nuke.nodes.NoOp()

    nuke.addKnobChanged(creates, nodeClass="ComfyRender")
    with pytest.raises(RuntimeError, match="current group inside a knobChanged"):
        nuke._fake_user_edit(node["variations"], 4)
    assert made == ["NoOp1"]
    nuke._fake_reset(gui=False)
    terminal = nuke.nodes.NoOp()
    with pytest.raises(RuntimeError, match="without a GUI"):
        nuke._fake_user_edit(terminal["label"], "x")


def test_a_button_press_sets_this_knob():
    """PyScript_Knob.execute runs its code with thisNode() and thisKnob() set to the button."""
    node = nuke.nodes.NoOp()
    button = nuke.PyScript_Knob("press", "press", "import nuke\nnuke.tprint(nuke.thisKnob().name())")
    node.addKnob(button)
    button.execute()
    assert nuke._fake_state().printed[-1] == "press"
