"""Subgraphs, bypass and mute, helper nodes and refusals, on small graphs built as the frontend saves them."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from nuke_comfyui.core import ui_convert
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.ui_convert import marks
from tests.core.ui_convert import corpus
from tests.core.ui_convert.graphs import INFO, subgraph, ui_node, workflow

BLUR = "0c0ffee0-0000-4000-8000-00000000b1e5"


def convert(data: Dict[str, Any], info: Dict[str, Any] = INFO) -> Dict[str, Any]:
    prompt = ui_convert.convert(data, info, "test.json")
    marks.strip(prompt)
    return prompt


def blur_definition(inner_mode: int = 0) -> Dict[str, Any]:
    """Subgraph "Soften": image in -> ImageBlur (radius promoted as input `radius`) -> image out."""
    return subgraph(BLUR, "Soften", [
        ui_node(1, "ImageBlur", [5, 2.0], mode=inner_mode,
                inputs=[("image", "IMAGE", 1), ("blur_radius", "INT", 2, "blur_radius")],
                outputs=[("IMAGE", "IMAGE")]),
    ], [[1, -10, 0, 1, 0, "IMAGE"], [2, -10, 1, 1, 1, "INT"], [3, 1, 0, -20, 0, "IMAGE"]],
        inputs=[("image", "IMAGE", [1]), ("radius", "INT", [2])], outputs=[("IMAGE", "IMAGE", [3])])


def two_instances(second_values: Any = (9,), **instance: Any) -> Dict[str, Any]:
    return workflow([
        ui_node(1, "LoadImage", ["a.png", "image"], outputs=[("IMAGE", "IMAGE"), ("MASK", "MASK")]),
        ui_node(10, BLUR, [3], inputs=[("image", "IMAGE", 1), ("radius", "INT", None, "radius")],
                outputs=[("IMAGE", "IMAGE")], **instance),
        ui_node(11, BLUR, list(second_values), title="Harder", inputs=[("image", "IMAGE", 2)],
                outputs=[("IMAGE", "IMAGE")]),
        ui_node(20, "SaveImage", ["a"], inputs=[("images", "IMAGE", 3)]),
        ui_node(21, "SaveImage", ["b"], inputs=[("images", "IMAGE", 4)]),
    ], [[1, 1, 0, 10, 0, "IMAGE"], [2, 10, 0, 11, 0, "IMAGE"], [3, 10, 0, 20, 0, "IMAGE"],
        [4, 11, 0, 21, 0, "IMAGE"]], [blur_definition()])


def test_two_instances_of_one_subgraph_keep_their_own_values() -> None:
    prompt = convert(two_instances())
    assert prompt["10:1"]["inputs"] == {"blur_radius": 3, "sigma": 2.0, "image": ["1", 0]}
    assert prompt["11:1"]["inputs"] == {"blur_radius": 9, "sigma": 2.0, "image": ["10:1", 0]}
    assert prompt["20"]["inputs"]["images"] == ["10:1", 0] and prompt["21"]["inputs"]["images"] == ["11:1", 0]
    assert "10" not in prompt and "11" not in prompt  # instances are not nodes of the prompt


def test_an_instance_without_its_own_value_uses_the_widget_inside() -> None:
    assert convert(two_instances(second_values=()))["11:1"]["inputs"]["blur_radius"] == 5


def test_readable_path_is_kept_for_labels() -> None:
    prompt = ui_convert.convert(two_instances(), INFO, "t")
    assert marks.path(prompt["11:1"]) == ["Harder"] and marks.path(prompt["10:1"]) == ["Soften"]
    assert marks.path(prompt["20"]) == []


def test_bypassed_node_inside_a_subgraph_passes_its_image_through() -> None:
    """Also through two chained instances of the subgraph (which frontend 1.49 mistakes for a loop)."""
    data = two_instances()
    data["definitions"]["subgraphs"] = [blur_definition(inner_mode=4)]
    prompt = convert(data)
    assert "10:1" not in prompt and prompt["20"]["inputs"]["images"] == ["1", 0]
    assert prompt["21"]["inputs"]["images"] == ["1", 0]


def test_muted_node_inside_a_subgraph_feeds_nothing() -> None:
    """The SaveImage it fed would get no image, which the server refuses: refused here, by name."""
    data = two_instances()
    data["definitions"]["subgraphs"] = [blur_definition(inner_mode=2)]
    with pytest.raises(WorkflowError, match=r"node 20 \(SaveImage, 'Save Image'\) lacks required input\(s\) images"):
        convert(data)


def test_bypassed_instance_passes_its_input_through_and_its_nodes_do_not_run() -> None:
    prompt = convert(two_instances(mode=4))
    assert not any(key.startswith("10:") for key in prompt)
    assert prompt["20"]["inputs"]["images"] == ["1", 0] and prompt["11:1"]["inputs"]["image"] == ["1", 0]


def test_nested_subgraph_values_come_down_through_both_instances() -> None:
    outer = "0c0ffee0-0000-4000-8000-0000000000a1"
    definition = subgraph(outer, "Outer", [
        ui_node(7, BLUR, [], inputs=[("image", "IMAGE", 1), ("radius", "INT", 2, "radius")],
                outputs=[("IMAGE", "IMAGE")]),
    ], [[1, -10, 0, 7, 0, "IMAGE"], [2, -10, 1, 7, 1, "INT"], [3, 7, 0, -20, 0, "IMAGE"]],
        inputs=[("image", "IMAGE", [1]), ("strength", "INT", [2])], outputs=[("IMAGE", "IMAGE", [3])])
    data = workflow([
        ui_node(1, "LoadImage", ["a.png", "image"], outputs=[("IMAGE", "IMAGE")]),
        ui_node(30, outer, [12], inputs=[("image", "IMAGE", 1)], outputs=[("IMAGE", "IMAGE")]),
        ui_node(40, "SaveImage", ["x"], inputs=[("images", "IMAGE", 2)]),
    ], [[1, 1, 0, 30, 0, "IMAGE"], [2, 30, 0, 40, 0, "IMAGE"]], [definition, blur_definition()])
    prompt = convert(data)
    assert prompt["30:7:1"]["inputs"] == {"blur_radius": 12, "sigma": 2.0, "image": ["1", 0]}
    assert prompt["40"]["inputs"]["images"] == ["30:7:1", 0]


def test_a_subgraph_that_contains_itself_is_refused_by_name() -> None:
    looping = subgraph(BLUR, "Soften", [ui_node(1, BLUR, [], outputs=[("IMAGE", "IMAGE")])], [], [],
                       [("IMAGE", "IMAGE", [])])
    data = workflow([ui_node(10, BLUR, [], outputs=[("IMAGE", "IMAGE")])], [], [looping])
    with pytest.raises(WorkflowError, match=r"subgraph instance 10:1 \('Soften'\) contains itself.*remove the loop"):
        convert(data)


def test_a_missing_link_is_refused_by_name() -> None:
    data = workflow([ui_node(1, "LoadImage", ["a.png", "image"], outputs=[("IMAGE", "IMAGE")]),
                     ui_node(2, "SaveImage", ["x"], inputs=[("images", "IMAGE", 99)])], [])
    with pytest.raises(WorkflowError, match=r"input 'images' of node 2 \(SaveImage\) uses link 99.*reconnect"):
        convert(data)


def test_reroute_and_get_set_variables_are_followed() -> None:
    data = workflow([
        ui_node(1, "LoadImage", ["b.png", "image"], outputs=[("IMAGE", "IMAGE")]),
        ui_node(2, "Reroute", None, inputs=[("", "*", 1)], outputs=[("", "IMAGE")]),
        ui_node(3, "SetNode", ["plate"], inputs=[("IMAGE", "IMAGE", 2)], outputs=[("*", "*")]),
        ui_node(4, "GetNode", ["plate"], outputs=[("IMAGE", "IMAGE")]),
        ui_node(5, "ImageInvert", [], inputs=[("image", "IMAGE", 3)], outputs=[("IMAGE", "IMAGE")]),
        ui_node(6, "SaveImage", ["x"], inputs=[("images", "IMAGE", 4)]),
        ui_node(7, "Note", ["a note"]),
    ], [[1, 1, 0, 2, 0, "IMAGE"], [2, 2, 0, 3, 0, "IMAGE"], [3, 4, 0, 5, 0, "IMAGE"], [4, 5, 0, 6, 0, "IMAGE"]])
    prompt = convert(data)
    assert sorted(prompt) == ["1", "5", "6"] and prompt["5"]["inputs"] == {"image": ["1", 0]}


def test_a_get_node_without_its_set_node_is_refused_by_name() -> None:
    data = workflow([ui_node(4, "GetNode", ["plate"], outputs=[("IMAGE", "IMAGE")]),
                     ui_node(6, "SaveImage", ["x"], inputs=[("images", "IMAGE", 4)])],
                    [[4, 4, 0, 6, 0, "IMAGE"]])
    with pytest.raises(WorkflowError, match=r"node 4 \(GetNode\) reads variable 'plate', which no Set node"):
        convert(data)


def test_a_primitive_writes_only_into_widgets_wired_directly() -> None:
    """The frontend's `applyToGraph` follows direct links only: through a reroute the blur keeps its own value."""
    data = workflow([
        ui_node(1, "LoadImage", ["a.png", "image"], outputs=[("IMAGE", "IMAGE")]),
        ui_node(2, "PrimitiveNode", [7, "fixed"], outputs=[("INT", "INT")]),
        ui_node(3, "ImageBlur", [1, 1.5], inputs=[("image", "IMAGE", 1), ("blur_radius", "INT", 2, "blur_radius")],
                outputs=[("IMAGE", "IMAGE")]),
        ui_node(4, "Reroute", None, inputs=[("", "*", 3)], outputs=[("", "INT")]),
        ui_node(5, "ImageBlur", [2, 1.5], inputs=[("image", "IMAGE", 5), ("blur_radius", "INT", 4, "blur_radius")],
                outputs=[("IMAGE", "IMAGE")]),
        ui_node(6, "SaveImage", ["x"], inputs=[("images", "IMAGE", 6)]),
    ], [[1, 1, 0, 3, 0, "IMAGE"], [2, 2, 0, 3, 1, "INT"], [3, 2, 0, 4, 0, "INT"], [4, 4, 0, 5, 1, "INT"],
        [5, 3, 0, 5, 0, "IMAGE"], [6, 5, 0, 6, 0, "IMAGE"]])
    prompt = convert(data)
    assert prompt["3"]["inputs"]["blur_radius"] == 7 and prompt["5"]["inputs"]["blur_radius"] == 2


def test_arrays_are_boxed_so_they_cannot_look_like_links() -> None:
    info = corpus.object_info()
    data = workflow([ui_node(1, "ColorToRGBInt", ["#ff0000"], outputs=[("INT", "INT")]),
                     ui_node(2, "PreviewAny", [], inputs=[("source", "*", 1)])], [[1, 1, 0, 2, 0, "INT"]])
    assert convert(data, info)["1"]["inputs"] == {"color": "#ff0000"}
    info = {**INFO, "Palette": {"input": {"required": {"colors": ["COLORS", {}]}}, "output": ["IMAGE"]}}
    data = workflow([ui_node(1, "Palette", [["#fff", "#000"]], outputs=[("IMAGE", "IMAGE")]),
                     ui_node(2, "SaveImage", ["x"], inputs=[("images", "IMAGE", 1)])], [[1, 1, 0, 2, 0, "IMAGE"]])
    assert convert(data, info)["1"]["inputs"] == {"colors": {"__value__": ["#fff", "#000"]}}


def test_a_value_made_by_the_browser_when_queued_is_refused_by_name() -> None:
    info = corpus.object_info()
    data = workflow([ui_node(1, "WebcamCapture", ["", 512, 512, False, "image"], outputs=[("IMAGE", "IMAGE")]),
                     ui_node(2, "SaveImage", ["x"], inputs=[("images", "IMAGE", 1)])], [[1, 1, 0, 2, 0, "IMAGE"]])
    with pytest.raises(WorkflowError, match=r"node 1 \(WebcamCapture\) takes its input 'image' from a webcam frame"):
        convert(data, info)


def test_a_node_saved_by_another_version_is_refused_not_shifted() -> None:
    """The issue's case: a dynamic combo key this server does not offer would shift every value after it."""
    data = corpus.template("api_anthropic_claude.json")
    claude = next(n for n in data["nodes"] if n["type"] == "ClaudeNode")
    claude["widgets_values"][1] = "Opus 9"
    with pytest.raises(WorkflowError, match=r"node 5 \(ClaudeNode, 'Anthropic Claude'\) input 'model' is "
                                            r"'Opus 9', which this server's node does not offer"):
        convert(data, corpus.object_info())
    claude["widgets_values"][1] = "Opus 4.7"
    claude["widgets_values_named"] = {"prompt": "", "model": "Opus 4.7", "model.top_k": 3}
    with pytest.raises(WorkflowError, match=r"node 5 \(ClaudeNode\) was saved with input\(s\) model.top_k"):
        convert(data, corpus.object_info())


def test_an_empty_or_all_muted_graph_is_refused() -> None:
    data = workflow([ui_node(1, "LoadImage", ["a.png", "image"], mode=2)], [])
    with pytest.raises(WorkflowError, match=r"has no node to run"):
        convert(data)
