"""Comfy nodes as studios move them: pasted, opened in nuke -t, baked into a Group.

Fake-nuke behaviours relied on (tests/host/test_fake_nuke_undo.py): nodeCopy/nodePaste and onCreate
(Foundry's reference), Gizmo.makeGroup ("a Group node copy of the Gizmo node"), a gizmo's internals
coming back from its .gizmo file when a node is loaded or pasted, and no event loop without a GUI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nuke
import pytest

from nuke_comfyui.host import arrival_hooks, headless, job_state, knobs, render, workflow_events
from nuke_comfyui.host.session import running_session

ROOT = Path(__file__).resolve().parents[2]
IMG2IMG = str(ROOT / "examples/img2img.json")


def _comfy(workflow: str = IMG2IMG) -> Any:
    node = nuke.createNode(knobs.NODE_CLASS, inpanel=False)
    node[knobs.WORKFLOW].setValue(workflow)
    from nuke_comfyui.host import image_arrows

    image_arrows.sync_inputs(node)
    return node


def test_a_pasted_node_has_its_arrows_without_opening_its_panel(pump: Any) -> None:
    arrival_hooks.register()
    node = _comfy()
    assert nuke._fake_input_labels(node) == ["Nuke_Input"]
    node.selectOnly()
    nuke.nodeCopy("%clipboard%")
    pasted = nuke.nodePaste("%clipboard%")
    assert pasted is not None and pasted.name() == "ComfyRender2"
    assert len(nuke._fake_input_labels(pasted)) == 8  # the gizmo file's defaults, until the paste is done
    pump(lambda: nuke._fake_input_labels(pasted) == ["Nuke_Input"], 5)
    assert running_session() is None  # pasting started no farm, no network work


def test_a_script_opened_in_nuke_t_has_its_arrows(tmp_path: Path) -> None:
    _comfy()
    nuke.scriptSaveAs(str(tmp_path / "shot.nk"), 1)
    nuke._fake_reset(gui=False)
    nuke.pluginAddPath(str(ROOT / "gizmos"), addToSysPath=False)
    arrival_hooks.register()  # init.py, which runs in every session
    nuke.scriptOpen(str(tmp_path / "shot.nk"))
    assert nuke._fake_input_labels(nuke.toNode("ComfyRender1")) == ["Nuke_Input"]
    assert nuke._fake_queued() == 0 and nuke.root().modified() is False


def _bake(node: Any) -> Any:
    """What studio gizmo-baking tools do: makeGroup, move the connections, delete the gizmo, take its name."""
    name, upstream = node.name(), node.input(0)
    group = node.makeGroup()
    group.setInput(0, upstream)
    nuke.delete(node)
    group.setName(name)
    return group


def test_a_node_baked_into_a_group_is_still_a_comfy_node(tmp_path: Path) -> None:
    node = _comfy()
    group = _bake(node)
    assert group.Class() == "Group" and knobs.is_comfy(group)
    assert render.comfy_node_names() == ["ComfyRender1"]
    assert knobs.comfy_node("ComfyRender1") is group
    workflow_events.register()
    nuke._fake_user_edit(group[knobs.WORKFLOW], str(ROOT / "examples/invert.json"))
    assert "workflow_tab" in group.knobs()  # the knobChanged hook follows the baked node too
    assert not knobs.is_comfy(nuke.nodes.Group())


@pytest.mark.integration
def test_a_baked_node_renders_headless(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                      capsys: Any) -> None:
    cluster = sim_cluster(1)
    monkeypatch.setenv("NUKE_COMFYUI_SERVERS", json.dumps([{"name": "gpu1", "port": cluster.ports[0]}]))
    node = _comfy(str(ROOT / "examples/invert.json"))
    node.setInput(0, nuke.nodes.Constant())
    node["frame_range_mode"].setValue("custom")
    node["custom_frames"].setValue("1-2")
    node["output_dir"].setValue(str(tmp_path / "renders"))
    _bake(node)
    script = tmp_path / "baked.nk"
    nuke.scriptSaveAs(str(script), 1)
    nuke._fake_reset(gui=False)
    nuke._fake_run_as_terminal([headless.__file__, str(script), "--poll", "0.05"])
    assert headless.main() == 0, capsys.readouterr()
    nuke.scriptOpen(str(tmp_path / "baked.comfyui.nk"))
    group = nuke.toNode("ComfyRender1")
    assert group.Class() == "Group" and job_state.load(group).state == "completed"
    assert nuke.toNode("ComfyRender1_var01") is not None
