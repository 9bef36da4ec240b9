"""The refusals of docs/BAD_INPUT.md ("Saved (UI) workflows"), each pinned word for word."""

from __future__ import annotations

from typing import Any, Callable, Dict

import pytest

from nuke_comfyui.core import ui_convert
from nuke_comfyui.core.errors import WorkflowError
from tests.core.ui_convert import corpus
from tests.core.ui_convert.graphs import INFO, subgraph, ui_node, workflow
from tests.core.ui_convert.test_subgraphs_and_helpers import BLUR, blur_definition, two_instances

WHERE = "<dir>/shot.json"


def _self_containing() -> Dict[str, Any]:
    looping = subgraph(BLUR, "Soften", [ui_node(1, BLUR, [], outputs=[("IMAGE", "IMAGE")])], [], [],
                       [("IMAGE", "IMAGE", [])])
    return workflow([ui_node(10, BLUR, [], outputs=[("IMAGE", "IMAGE")])], [], [looping])


def _claude(key: str, named: Any = None) -> Dict[str, Any]:
    data = corpus.template("api_anthropic_claude.json")
    claude = next(n for n in data["nodes"] if n["type"] == "ClaudeNode")
    claude["widgets_values"][1] = key
    if named is not None:
        claude["widgets_values_named"] = named
    return data


def _muted_inside() -> Dict[str, Any]:
    data = two_instances()
    data["definitions"]["subgraphs"] = [blur_definition(inner_mode=2)]
    return data


def _group_node() -> Dict[str, Any]:
    data = workflow([ui_node(40, "workflow>Detailer", [], title="Detailer")], [])
    data["extra"] = {"groupNodes": {"Detailer": {}}}
    return data


REAL = corpus.object_info()
CASES: Dict[str, Callable[[], Any]] = {
    "subgraph containing itself": lambda: (_self_containing(), INFO),
    "link id missing": lambda: (workflow([ui_node(1, "LoadImage", ["a.png", "image"], outputs=[("IMAGE", "IMAGE")]),
                                          ui_node(2, "SaveImage", ["x"], inputs=[("images", "IMAGE", 99)])], []), INFO),
    "Get node without Set node": lambda: (workflow([ui_node(4, "GetNode", ["plate"], outputs=[("IMAGE", "IMAGE")]),
                                                    ui_node(6, "SaveImage", ["x"], inputs=[("images", "IMAGE", 4)])],
                                                   [[4, 4, 0, 6, 0, "IMAGE"]]), INFO),
    "webcam": lambda: (workflow([ui_node(1, "WebcamCapture", ["", 512, 512, False, "image"],
                                         outputs=[("IMAGE", "IMAGE")]),
                                 ui_node(2, "SaveImage", ["x"], inputs=[("images", "IMAGE", 1)])],
                                [[1, 1, 0, 2, 0, "IMAGE"]]), REAL),
    "dynamic combo key not offered": lambda: (_claude("Opus 9"), REAL),
    "named values of another version": lambda: (_claude("Opus 4.7", {"prompt": "", "model": "Opus 4.7",
                                                                     "model.top_k": 3}), REAL),
    "required input unconnected": lambda: (_muted_inside(), INFO),
    "all muted": lambda: (workflow([ui_node(1, "LoadImage", ["a.png", "image"], mode=2)], []), INFO),
    "group node": lambda: (_group_node(), INFO),
    "unknown class": lambda: (workflow([ui_node(41, "FaceDetailer", [])], []), INFO),
    "primitive text replacement": lambda: (workflow([
        ui_node(1, "PrimitiveNode", [5], properties={"Run widget replace on values": True},
                outputs=[("INT", "INT")]),
        ui_node(2, "ImageBlur", [1, 1.0], inputs=[("image", "IMAGE", None), ("blur_radius", "INT", 1, "blur_radius")],
                outputs=[("IMAGE", "IMAGE")])], [[1, 1, 0, 2, 1, "INT"]]), INFO),
    "template: instance value for a widget the server lacks": lambda: (corpus.template("3d_hunyuan3d-v2.1.json"),
                                                                       REAL),
    "template: link to an output the server lacks": lambda: (corpus.template("api_tripo3_0_text_to_model.json"), REAL),
    "template: value of the wrong type": lambda: (corpus.template("video_ltx2_3_ia2v.json"), REAL),
    "no server described the classes": lambda: ({"nodes": [], "links": []}, {}),
}
MESSAGES = {
    "subgraph containing itself": "<dir>/shot.json: subgraph instance 10:1 ('Soften') contains itself (subgraph "
                                  "'Soften'); remove the loop in ComfyUI",
    "link id missing": "<dir>/shot.json: input 'images' of node 2 (SaveImage) uses link 99, which the file does not "
                       "have; reconnect it in ComfyUI and save again",
    "Get node without Set node": "<dir>/shot.json: node 4 (GetNode) reads variable 'plate', which no Set node in the "
                                 "same graph defines; add the Set node or connect the wire directly in ComfyUI",
    "webcam": "<dir>/shot.json: node 1 (WebcamCapture) takes its input 'image' from a webcam frame the browser "
              "captures when ComfyUI queues it, which no saved file holds; render that part in ComfyUI, or replace "
              "the node with one that loads a file",
    "dynamic combo key not offered": "<dir>/shot.json: node 5 (ClaudeNode, 'Anthropic Claude') input 'model' is "
                                     "'Opus 9', which this server's node does not offer ('Opus 5', 'Opus 4.8', "
                                     "'Fable 5', 'Sonnet 5', 'Opus 4.7', 'Opus 4.6', 'Sonnet 4.6', 'Sonnet 4.5'); the "
                                     "workflow was saved with another version of the node: update ComfyUI on the "
                                     "servers or pick an offered choice in ComfyUI",
    "named values of another version": "<dir>/shot.json: node 5 (ClaudeNode) was saved with input(s) model.top_k that "
                                       "this server's ClaudeNode does not have there (another version of the node); "
                                       "update ComfyUI on the servers, or open and save the workflow with the servers' "
                                       "version",
    "required input unconnected": "<dir>/shot.json: node 20 (SaveImage, 'Save Image') lacks required input(s) images; "
                                  "connect or set them in ComfyUI and save again",
    "all muted": "<dir>/shot.json has no node to run (all muted, bypassed or notes)",
    "group node": "<dir>/shot.json: node 40 (workflow>Detailer, 'Detailer') is a legacy group node, which cannot be "
                  "converted; in ComfyUI right-click it and convert it to a subgraph (or use Workflow > Export (API)), "
                  "then save again",
    "unknown class": "<dir>/shot.json: node 41 (FaceDetailer) uses class 'FaceDetailer', which no server answering "
                     "/object_info has; install it on the servers, or open it in ComfyUI and use Workflow > Export "
                     "(API), then pick that file",
    "primitive text replacement": "<dir>/shot.json: node 1 (PrimitiveNode) has 'Run widget replace on values' on, "
                                  "whose %...% replacements only ComfyUI's browser fills in; turn it off in ComfyUI",
    "template: instance value for a widget the server lacks":
        "<dir>/shot.json: subgraph instance 19 ('Image to 3D (Hunyun3D 2.1)') was saved with a value for input(s) "
        "sampling, which on this server's nodes inside it are no widget (another version of a node inside); update "
        "ComfyUI on the servers, or open and save the workflow with the servers' version",
    "template: link to an output the server lacks":
        "<dir>/shot.json: node 41 (SaveGLB, 'Save 3D Model') input 'mesh' links to output 3 of node 3 "
        "(TripoTextToModelNode), which has 3 on this server; the workflow was saved with another version of this "
        "node; update ComfyUI on the servers, or open and save the workflow with the servers' version",
    "template: value of the wrong type":
        "<dir>/shot.json: node 340:312 (CreateVideo, 'Video Generation (LTX-2.3) \u203a Create Video') input "
        "'bit_depth' holds 'auto', not an int value as the server declares; the workflow was saved with another "
        "version of this node; update ComfyUI on the servers, or open and save the workflow with the servers' version",
    "no server described the classes":
        "<dir>/shot.json is a ComfyUI UI workflow (saved with Save); converting it needs a server answering "
        "/object_info and none did; start a server, or open it in ComfyUI and use Workflow > Export (API), then "
        "pick that file",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refusal_message(case: str) -> None:
    data, info = CASES[case]()
    with pytest.raises(WorkflowError) as raised:
        ui_convert.convert(data, info, WHERE)
    assert str(raised.value) == MESSAGES[case]
