"""The Workflow tab for saved workflows with subgraphs and dynamic combos.

Knobs of nodes inside subgraph instances are headed by their path (subgraph titles, then the node title) and named
from the `instance:node` key; picking another key of a dynamic combo (the artist's edit, which
the fake plays with `_fake_user_edit` and the knobChanged callback registered as menu.py does)
rebuilds the knobs under it keeping the values whose input the new option keeps; animated
sub-knobs are read per frame like any knob. Fake-nuke behaviours relied on: Enumeration_Knob
values, Text_Knob labels, addKnobChanged and Array_Knob animation (tests/host/test_fake_nuke*.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import nuke
import pytest
from offline_farm import offline_session

from nuke_comfyui.core.workflow_inputs import apply_values
from nuke_comfyui.host import knobs, workflow_events, workflow_tab
from tests.core.ui_convert.graphs import INFO, ui_node, workflow
from tests.core.ui_convert.test_subgraphs_and_helpers import two_instances

BLEND = {"input": {"required": {
    "image": ["IMAGE", {}],
    "mode": ["COMFY_DYNAMICCOMBO_V3", {"options": [
        {"key": "soft", "inputs": {"required": {"strength": ["FLOAT", {"default": 0.5, "min": 0.0, "max": 1.0}]}}},
        {"key": "hard", "inputs": {"required": {"strength": ["FLOAT", {"default": 0.5, "min": 0.0, "max": 1.0}],
                                                "edge": ["INT", {"default": 3, "min": 0, "max": 10}]}}},
    ]}]}}, "output": ["IMAGE"], "display_name": "Blend"}
SERVER: Dict[str, Any] = {**INFO, "Blend": BLEND}


@pytest.fixture()
def server() -> None:
    offline_session({"gpu1": SERVER})
    workflow_events.register()


def _node(tmp_path: Path, data: Dict[str, Any]) -> nuke.Node:
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(data))
    node = nuke.createNode(knobs.NODE_CLASS)
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(path))
    return node


def _blend_workflow() -> Dict[str, Any]:
    return workflow([
        ui_node(1, "LoadImage", ["a.png", "image"], outputs=[("IMAGE", "IMAGE")]),
        ui_node(2, "Blend", ["soft", 0.7], inputs=[("image", "IMAGE", 1)], outputs=[("IMAGE", "IMAGE")]),
        ui_node(3, "SaveImage", ["x"], inputs=[("images", "IMAGE", 2)]),
    ], [[1, 1, 0, 2, 0, "IMAGE"], [2, 2, 0, 3, 0, "IMAGE"]])


def test_knobs_of_subgraph_nodes_are_headed_by_their_path(server: None, tmp_path: Path) -> None:
    node = _node(tmp_path, two_instances())
    assert node["wf_10_1__blur_radius"].value() == 3 and node["wf_11_1__blur_radius"].value() == 9
    assert node["wf_h_10_1"].label() == "Soften \u203a Image Blur"
    assert node["wf_h_11_1"].label() == "Harder \u203a Image Blur"
    node["wf_11_1__blur_radius"].setValue(5)
    static, _ = workflow_tab.read_values(node, [])
    assert static["11:1.blur_radius"] == 5 and static["10:1.blur_radius"] == 3


def test_picking_another_dynamic_key_rebuilds_the_knobs_keeping_values(server: None, tmp_path: Path,
                                                                     pump: Any) -> None:
    node = _node(tmp_path, _blend_workflow())
    assert node["wf_2__mode"].values() == ["soft", "hard"] and node["wf_2__mode__strength"].value() == 0.7
    assert "wf_2__mode__edge" not in node.knobs()
    node["wf_2__mode__strength"].setValue(0.9)  # the artist's value
    nuke._fake_user_edit(node["wf_2__mode"], "hard")
    # the rebuild removes the pull-down whose callback asked for it, so it runs once that returned
    pump(lambda: "wf_2__mode__edge" in node.knobs(), 5)
    assert node["wf_2__mode"].value() == "hard"
    assert node["wf_2__mode__strength"].value() == 0.9  # the new option keeps `strength`: so does the knob
    assert node["wf_2__mode__edge"].value() == 3  # the new option's input, at its default
    node["wf_2__mode__edge"].setValue(7)
    nuke._fake_user_edit(node["wf_2__mode"], "soft")
    pump(lambda: "wf_2__mode__edge" not in node.knobs(), 5)
    assert "wf_2__mode__edge" not in node.knobs() and node["wf_2__mode__strength"].value() == 0.9
    assert "2.mode.edge" in node[workflow_tab.NOTES].value()  # the dropped edit of the hard option is named


def test_a_dynamic_sub_knob_animates_per_frame_into_each_jobs_prompt(server: None, tmp_path: Path,
                                                                     pump: Any) -> None:
    node = _node(tmp_path, _blend_workflow())
    nuke._fake_user_edit(node["wf_2__mode"], "hard")
    pump(lambda: "wf_2__mode__edge" in node.knobs(), 5)  # rebuilt once the pull-down's callback returned
    edge = node["wf_2__mode__edge"]
    edge.setAnimated()
    edge.setValueAt(1, 1001)
    edge.setValueAt(6, 1002)
    static, per_frame = workflow_tab.read_values(node, [1001, 1002])
    assert static["2.mode"] == "hard" and per_frame["2.mode.edge"] == {"1001": 1, "1002": 6}
    from nuke_comfyui.core import workflow as wf

    prompt = wf.load_workflow(workflow_tab.workflow_path(node), SERVER)  # what a job of frame 1002 gets
    apply_values(prompt, {**static, **{k: v["1002"] for k, v in per_frame.items()}})
    assert prompt["2"]["inputs"] == {"image": ["1", 0], "mode": "hard", "mode.strength": 0.7, "mode.edge": 6}
