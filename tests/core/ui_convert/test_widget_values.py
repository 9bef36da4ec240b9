"""The frontend's positional widget walk: which saved value belongs to which input."""

from __future__ import annotations

from typing import Any, Dict, List

from nuke_comfyui.core.ui_convert import frontend_defs, widget_values
from tests.core.ui_convert import corpus
from tests.core.ui_convert.graphs import INFO


def walk(class_type: str, saved: Any, info: Dict[str, Any] = INFO) -> Dict[str, Any]:
    return {w.spec.name: w.value for w in widget_values.assign(frontend_defs.class_inputs(info[class_type]), saved)}


def test_control_widgets_take_a_position_and_are_not_inputs() -> None:
    """An INT with control_after_generate has one control value after it; a COMBO has two (control and
    the filter list). Sockets (positive, image) take no value."""
    assert walk("Sampler", [5, "randomize", "dpmpp", "fixed", "", 30, 4.5]) == {
        "seed": 5, "sampler_name": "dpmpp", "steps": 30, "cfg": 4.5}


def test_an_int_named_seed_has_a_control_even_undeclared() -> None:
    info = {"Noise": {"input": {"required": {"seed": ["INT", {}], "strength": ["FLOAT", {}]}}}}
    assert walk("Noise", [7, "increment", 0.5], info) == {"seed": 7, "strength": 0.5}


def test_upload_button_sits_after_every_input_and_is_not_sent() -> None:
    info = corpus.object_info()
    assert [s.name for s in frontend_defs.class_inputs(info["LoadImageMask"])] == ["image", "channel", "upload"]
    assert walk("LoadImageMask", ["matte.png", "red", "image"], info) == {"image": "matte.png", "channel": "red"}


def test_dynamic_combo_inserts_the_chosen_options_inputs_after_itself() -> None:
    assert walk("SaveImageAdvanced", ["shot", "exr", "32-bit float", "linear"]) == {
        "filename_prefix": "shot", "format": "exr", "format.bit_depth": "32-bit float",
        "format.input_color_space": "linear"}
    assert walk("SaveImageAdvanced", ["shot", "png", "16-bit"]) == {
        "filename_prefix": "shot", "format": "png", "format.bit_depth": "16-bit"}


def test_missing_values_keep_defaults_and_extra_values_are_ignored() -> None:
    assert walk("SaveImageAdvanced", ["shot"]) == {
        "filename_prefix": "shot", "format": "png", "format.bit_depth": "8-bit"}
    assert walk("ImageBlur", [3, 2.0, "from a newer version"]) == {"blur_radius": 3, "sigma": 2.0}


def test_legacy_values_of_force_input_widgets_are_dropped_when_the_count_says_so() -> None:
    info = {"Mix": {"input": {"required": {"a": ["FLOAT", {"forceInput": True}], "b": ["FLOAT", {}]}}}}
    assert walk("Mix", [0.25, 0.75], info) == {"b": 0.75}  # an old save held a value for `a` too
    assert walk("Mix", [0.75], info) == {"b": 0.75}


def test_bounding_box_widgets_fields_take_positions() -> None:
    info = corpus.object_info()
    box = {"x": 1, "y": 2, "width": 30, "height": 40}
    assert walk("ImageCropV2", [box, 1, 2, 30, 40], info) == {"crop_region": box}


def test_named_values_are_read_by_name() -> None:
    """Some custom nodes save a dict: it is read by name (dynamic sub-inputs too)."""
    assert walk("SaveImageAdvanced", {"filename_prefix": "x", "format": "exr", "format.input_color_space": "HDR"}) \
        == {"filename_prefix": "x", "format": "exr", "format.bit_depth": "32-bit float",
            "format.input_color_space": "HDR"}


def test_every_named_record_in_the_templates_agrees_on_the_inputs() -> None:
    """The frontend also saved `widgets_values_named` for many nodes: where the key sets agree (the
    node's version matches the server's), every name the walk gives a value to is one the frontend
    named, and the values match unless the file's named record is stale (the frontend restores by
    position; a few templates were edited positionally after saving)."""
    info = corpus.object_info()
    checked, stale, differs = 0, 0, []
    for name, data in corpus.templates():
        for node in _all_nodes(data):
            named, kind = node.get("widgets_values_named"), node.get("type")
            if not isinstance(named, dict) or kind not in info:
                continue
            got = walk(kind, node.get("widgets_values"), info)
            declared = {s.name for s in frontend_defs.class_inputs(info[kind])} - {"upload"}
            theirs = {k for k in named if k in declared or "." in k}
            if theirs != {k for k in got if k in theirs or k in named}:
                continue  # another version of the node: the conversion refuses those (test_templates_corpus)
            checked += 1
            wrong = [k for k in theirs if named[k] != got.get(k)]
            if wrong:
                stale += 1
                differs.append((name, kind, wrong))
    print(f"\nnamed records agreeing on inputs: {checked}; with a stale value in the file: {stale}")
    assert checked > 1500
    edited = {key for _name, _kind, keys in differs for key in keys}
    assert edited <= {"image", "audio", "file", "filename_prefix", "unet_name"}, differs  # file names edited later


def _all_nodes(data: Dict[str, Any]) -> List[Dict[str, Any]]:
    subgraphs = (data.get("definitions") or {}).get("subgraphs") or []
    return list(data["nodes"]) + [n for s in subgraphs for n in s.get("nodes") or []]


def test_a_multiselect_combo_holds_a_list_and_its_control_has_no_filter_field() -> None:
    """V3 `MultiCombo` (declared `multiselect: true` with a `multi_select` object; no 0.33 class uses one
    yet): one widget whose value is a list; with `control_after_generate` only a control follows it."""
    info = {"Tags": {"input": {"required": {
        "tags": ["COMBO", {"options": ["a", "b", "c"], "multiselect": True, "multi_select": {},
                           "control_after_generate": True}],
        "strength": ["FLOAT", {"default": 1.0}]}}}}
    assert walk("Tags", [["a", "c"], "fixed", 0.5], info) == {"tags": ["a", "c"], "strength": 0.5}
    assert walk("Tags", [], info)["tags"] == []  # its default is an empty selection
