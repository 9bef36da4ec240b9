"""`inputs`, `--set` and `--values` on converted workflows: subgraph ids, readable labels, dynamic combos."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest

from nuke_comfyui.core import dynamic_combos, ui_convert
from nuke_comfyui.core.input_addressing import readable, split_key
from nuke_comfyui.core.workflow_inputs import (
    InputValueError,
    apply_values,
    check_keys,
    find_input,
    list_inputs,
    parse_assignments,
)
from tests.core.ui_convert import corpus
from tests.core.ui_convert.graphs import INFO, ui_node, workflow
from tests.core.ui_convert.test_subgraphs_and_helpers import two_instances


def prompt_of(data: Dict[str, Any], info: Dict[str, Any] = INFO) -> Dict[str, Any]:
    prompt = ui_convert.convert(data, info, "t")
    dynamic_combos.annotate(prompt, info)
    return prompt


def saving_exr() -> Dict[str, Any]:
    return prompt_of(workflow([
        ui_node(1, "LoadImage", ["a.png", "image"], outputs=[("IMAGE", "IMAGE")]),
        ui_node(2, "SaveImageAdvanced", ["shot", "exr", "32-bit float", "linear"], inputs=[("images", "IMAGE", 1)]),
    ], [[1, 1, 0, 2, 0, "IMAGE"]]))


def test_inputs_of_a_subgraph_have_readable_labels_and_path_ids() -> None:
    inputs = {i.key: i for i in list_inputs(prompt_of(two_instances()), INFO)}
    item = inputs["11:1.blur_radius"]
    assert (item.node, item.name, item.value, item.kind, item.path) == ("11:1", "blur_radius", 9, "INT", ("Harder",))
    assert readable(item) == "Harder \u203a Image Blur \u203a blur_radius"
    assert item.as_dict()["path"] == ["Harder"]


def test_node_named_by_id_title_path_or_class() -> None:
    inputs = list_inputs(prompt_of(two_instances()), INFO)
    assert find_input(inputs, "11:1.blur_radius").node == "11:1"
    assert find_input(inputs, "Harder > Image Blur.blur_radius").node == "11:1"
    assert find_input(inputs, "Soften \u203a ImageBlur.sigma").node == "10:1"
    with pytest.raises(InputValueError, match=r"matches several nodes \(10:1, 11:1\).*Soften > Image Blur.sigma"):
        find_input(inputs, "ImageBlur.sigma")


def test_set_reaches_a_node_inside_a_subgraph() -> None:
    prompt = prompt_of(two_instances())
    values = parse_assignments(list_inputs(prompt, INFO), ["Harder > Image Blur.blur_radius=4"])
    assert values == {"11:1.blur_radius": 4}
    apply_values(prompt, values)
    assert prompt["11:1"]["inputs"]["blur_radius"] == 4 and prompt["10:1"]["inputs"]["blur_radius"] == 3


def test_keys_split_at_the_first_dot_after_a_node_id() -> None:
    prompt = saving_exr()
    assert split_key(prompt, "2.format.bit_depth") == ("2", "format.bit_depth")
    assert split_key({"12:5": {}}, "12:5.images.image_1") == ("12:5", "images.image_1")


def test_a_dynamic_combo_lists_its_keys_and_its_sub_inputs_are_typed() -> None:
    inputs = {i.key: i for i in list_inputs(saving_exr(), INFO)}
    assert inputs["2.format"].dynamic and inputs["2.format"].options == ("png", "exr")
    space = inputs["2.format.input_color_space"]
    assert (space.kind, space.options, space.value) == ("COMBO", ("sRGB", "HDR", "linear"), "linear")


def test_changing_the_dynamic_key_rebuilds_sub_inputs_keeping_what_fits() -> None:
    prompt = saving_exr()
    apply_values(prompt, {"2.format": "png"})
    assert {k: v for k, v in prompt["2"]["inputs"].items() if k.startswith("format")} == {
        "format": "png", "format.bit_depth": "8-bit"}  # 32-bit float is no png choice: back to the default
    apply_values(prompt, {"2.format": "exr", "2.format.input_color_space": "HDR"})  # a sub-input set with its key
    assert prompt["2"]["inputs"]["format.input_color_space"] == "HDR"
    assert prompt["2"]["inputs"]["format.bit_depth"] == "32-bit float"


def test_a_sub_input_of_another_option_is_refused_by_name() -> None:
    prompt = saving_exr()
    with pytest.raises(InputValueError, match=r"input 2.format.input_color_space is not a literal input"):
        check_keys(prompt, ["2.format.input_color_space"], {"2.format": "png"})
    check_keys(prompt, ["2.format.input_color_space"], {"2.format": "exr"})


def test_the_dynamic_options_travel_with_the_template() -> None:
    """A resumed render rebuilds from the journaled template: the options are in its marks, no server needed."""
    template = json.loads(json.dumps(saving_exr()))
    apply_values(template, {"2.format": "png"})
    assert template["2"]["inputs"]["format.bit_depth"] == "8-bit"


def test_the_issue_example_lists_as_the_server_sees_it() -> None:
    info = corpus.object_info()
    prompt = prompt_of(corpus.template("api_anthropic_claude.json"), info)
    inputs = {i.key: i for i in list_inputs(prompt, info)}
    assert inputs["5.seed"].is_seed and inputs["5.seed"].value == 0
    assert (inputs["5.model.temperature"].kind, inputs["5.model.temperature"].maximum) == ("FLOAT", 1.0)
    apply_values(prompt, {"5.model": "Opus 5"})  # that option has no temperature and a reasoning_effort of its own
    assert "model.temperature" not in prompt["5"]["inputs"]
    assert prompt["5"]["inputs"]["model.reasoning_effort"] == "high"
    assert prompt["5"]["inputs"]["model.max_tokens"] == 32768


def test_set_may_name_an_input_that_a_dynamic_choice_on_the_same_line_brings() -> None:
    from nuke_comfyui.core.workflow_inputs import parse_assignments_for

    values = parse_assignments_for(saving_exr(), INFO,
                                   ["2.format=png", "Save Image (Advanced).format.bit_depth=16-bit"])
    assert values == {"2.format": "png", "2.format.bit_depth": "16-bit"}
    with pytest.raises(InputValueError, match=r"'8-bit' is not one of the server's choices \(32-bit float\)"):
        parse_assignments_for(saving_exr(), INFO, ["2.format.bit_depth=8-bit"])  # exr offers no 8-bit
