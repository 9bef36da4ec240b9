"""A Workflow-tab rebuild never removes the knob whose callback asked for it.

Fake-nuke behaviour relied on: removing a knob during its own button press or knobChanged is refused
(tests/host/test_fake_nuke_knob_types.py); `executeInMainThread` runs only when the main thread pumps
its event loop, and there is no event loop without a GUI (tests/host/test_main_thread.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nuke
from offline_farm import offline_session

from nuke_comfyui.host import knobs, workflow_events, workflow_tab

ROOT = Path(__file__).resolve().parents[2]


def _node(tmp_path: Path) -> Any:
    offline_session()
    flow = tmp_path / "flow.json"
    flow.write_text((ROOT / "examples/img2img.json").read_text())
    node = nuke.createNode(knobs.NODE_CLASS, inpanel=False)
    node[knobs.WORKFLOW].setValue(str(flow))
    workflow_events.choose_workflow(node)
    return node, flow


def _drop_cfg(flow: Path) -> None:
    data = json.loads(flow.read_text())
    del data["3"]["inputs"]["cfg"]
    flow.write_text(json.dumps(data))


def test_reload_keeps_its_own_button_and_the_pick_list(tmp_path: Path) -> None:
    node, flow = _node(tmp_path)
    reload_button = node[workflow_tab.RELOAD]
    _drop_cfg(flow)
    reload_button.execute()
    assert node[workflow_tab.RELOAD] is reload_button and "wf_3__cfg" not in node.knobs()


def test_a_rebuild_asked_by_an_input_knobs_own_callback_waits_until_it_returned(tmp_path: Path, pump: Any) -> None:
    node, flow = _node(tmp_path)

    def on_steps() -> None:  # e.g. a future pull-down whose choice changes which inputs exist
        if nuke.thisKnob().name() == "wf_3__steps":
            workflow_events.choose_workflow(nuke.thisNode())

    nuke.addKnobChanged(on_steps, nodeClass=knobs.NODE_CLASS)
    _drop_cfg(flow)
    nuke._fake_user_edit(node["wf_3__steps"], 9)
    assert "wf_3__cfg" in node.knobs(), "not rebuilt while the steps knob's callback ran"
    pump(lambda: "wf_3__cfg" not in node.knobs(), 5)
    assert node["wf_3__steps"].value() == 9  # the artist's edit kept by the rebuild


def test_without_a_gui_such_a_rebuild_is_refused_with_what_to_do(tmp_path: Path) -> None:
    nuke._fake_reset(gui=False)
    nuke.pluginAddPath(str(ROOT / "gizmos"), addToSysPath=False)
    node, _ = _node(tmp_path)
    button = nuke.PyScript_Knob("wf_h_extra", "extra",
                                "import nuke_comfyui.host.workflow_events as e\ne.choose_workflow(nuke.thisNode())")
    node.addKnob(button)
    button.execute()
    assert "no event loop without a GUI" in node[knobs.STATUS].value()
    assert nuke._fake_state().main_queue.empty()


def test_buttons_saved_by_an_older_version_are_pointed_at_the_new_module(tmp_path: Path) -> None:
    node, _ = _node(tmp_path)
    node[workflow_tab.RELOAD].setCommand("import nuke_comfyui.host.workflow_tab as tab\ntab.reload_this_node()")
    workflow_events.choose_workflow(node)
    assert "workflow_buttons" in node[workflow_tab.RELOAD].command()


def test_an_older_scripts_buttons_work_after_it_is_opened(tmp_path: Path) -> None:
    from nuke_comfyui.host import arrival_hooks

    node, _ = _node(tmp_path)
    old = "import nuke_comfyui.host.workflow_tab as tab\ntab.reload_this_node()"  # what an older version saved
    node[workflow_tab.RELOAD].setCommand(old)
    nuke.scriptSaveAs(str(tmp_path / "old.nk"), 1)
    arrival_hooks.register()
    nuke.scriptOpen(str(tmp_path / "old.nk"))
    reload_button = nuke.toNode("ComfyRender1")[workflow_tab.RELOAD]
    assert "workflow_buttons" in reload_button.command()
    reload_button.execute()  # works without a rebuild first
