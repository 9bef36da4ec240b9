"""Workflow-tab knobs hold each input's value the way the server declares it, under Nuke's knob rules.

Real data: a real ComfyUI 0.33.0 `/object_info` (tests/host/data/comfyui-0.33-object_info-subset.json,
copied unchanged from /work/shared/comfyui-0.33-captures/object_info.json.gz): CLIPTextEncode's
multiline STRING, KSampler's sampler list, PrimitiveInt's 64-bit INT, LtxvApiTextToVideo's and
HitPawGeneralImageEnhance's COMBOs of integers; and two exchanges recorded by hand with that real
server (tests/host/data/comfyui-0.33-verbatim-text-and-wide-int.json, comfyui-0.33-int-combo-validation.json).
Fake-nuke behaviours relied on (tests/host/test_fake_nuke_knob_types.py names the
sources): text knobs TCL-evaluate value() and refuse non-str values, Int_Knob is a 32-bit C int,
Enumeration_Knob is an Array_Knob (float index from valueAt, setValue(int) by index), and
EvalString_Knob.evaluate() takes no frame (value(OutputContext) does).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import nuke
import pytest

from nuke_comfyui.host import knobs, render_check, tab_knobs, workflow_tab

DATA = Path(__file__).parent / "data" / "comfyui-0.33-object_info-subset.json"
REAL: Dict[str, Any] = json.loads(DATA.read_text())["object_info"]
SIM_INFO = json.loads((Path(__file__).resolve().parents[2] / "nuke_comfyui/sim/data/object_info.json").read_text())
PROMPT = "[red|blue] hair, $5 bill, C:\\temp\\x {a|b}"


def _node(tmp_path: Path, workflow: Dict[str, Any], info: Dict[str, Any] = REAL) -> nuke.Node:
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps(workflow))
    node = nuke.createNode(knobs.NODE_CLASS)
    node[knobs.WORKFLOW].setValue(str(flow))
    workflow_tab.build(node, info)
    return node


def _text_flow(text: Any) -> Dict[str, Any]:
    return {"6": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["4", 1]}},
            "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "x.safetensors"}},
            "9": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "o"}}}


def test_a_prompt_with_brackets_dollars_and_backslashes_reaches_the_request_verbatim(tmp_path: Path) -> None:
    node = _node(tmp_path, _text_flow(PROMPT))
    assert isinstance(node["wf_6__text"], nuke.Multiline_Eval_String_Knob)
    with pytest.raises(RuntimeError):
        node["wf_6__text"].value()  # Nuke would run [red|blue] as a TCL command
    static, per_frame = workflow_tab.read_values(node, [1001, 1002])
    assert static["6.text"] == PROMPT and per_frame == {}


def test_tcl_is_an_explicit_choice_per_input_and_is_evaluated_at_each_frame(tmp_path: Path) -> None:
    node = _node(tmp_path, _text_flow("shot [value root.name] frame [frame]"))
    nuke.root()["name"].setValue("/shots/sh010.nk")
    assert workflow_tab.read_values(node, [7])[0]["6.text"] == "shot [value root.name] frame [frame]"
    node["wf_6__text__tcl"].setValue(True)
    nuke.frame(1)
    _, per_frame = workflow_tab.read_values(node, [7, 8])
    assert per_frame["6.text"] == {"7": "shot /shots/sh010.nk frame 7", "8": "shot /shots/sh010.nk frame 8"}
    assert nuke.frame() == 1  # evaluated through an OutputContext, the viewer's frame untouched
    node["wf_6__text"].setValue(PROMPT)
    with pytest.raises(tab_knobs.TabValueError, match="untick its TCL box"):
        workflow_tab.read_values(node, [7])


def test_values_that_are_not_text_are_converted_deliberately(tmp_path: Path) -> None:
    number = _node(tmp_path, _text_flow(42))
    assert number["wf_6__text"].getText() == "42"
    assert workflow_tab.read_values(number, [])[0]["6.text"] == "42"  # ComfyUI's own str(val)
    assert "is not text" in number[workflow_tab.NOTES].value()
    empty = _node(tmp_path, _text_flow(None))
    assert empty["wf_6__text"].getText() == "" and "null" in empty[workflow_tab.NOTES].value()
    listed = {"1": {"class_type": "NukeOnlyList", "inputs": {"weights": [0.5, {"a": 1}]}},
              "9": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "o"}}}
    node = _node(tmp_path, listed, {})
    assert json.loads(node["wf_1__weights"].getText()) == [0.5, {"a": 1}]
    assert workflow_tab.read_values(node, [])[0]["1.weights"] == [0.5, {"a": 1}]
    node["wf_1__weights"].setValue("[0.5, ")
    with pytest.raises(tab_knobs.TabValueError, match="not valid JSON"):
        workflow_tab.read_values(node, [])


def test_an_int_wider_than_nukes_int_knob_is_held_exactly(tmp_path: Path) -> None:
    """PrimitiveInt declares -(2**63 - 1)..2**63 - 1 (real 0.33 /object_info); Int_Knob holds 32 bits."""
    big = 2 ** 40 + 3
    flow = {"1": {"class_type": "PrimitiveInt", "inputs": {"value": big}},
            "9": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "o"}}}
    node = _node(tmp_path, flow)
    assert not isinstance(node["wf_1__value"], nuke.Int_Knob)
    assert workflow_tab.read_values(node, [])[0]["1.value"] == big
    node["wf_1__value"].setValue(str(2 ** 63 + 5))
    with pytest.raises(tab_knobs.TabValueError, match="outside"):
        workflow_tab.read_values(node, [])
    node["wf_1__value"].setValue("12.5")
    with pytest.raises(tab_knobs.TabValueError, match="whole number"):
        workflow_tab.read_values(node, [])


def test_a_combo_of_integers_sends_integers(tmp_path: Path) -> None:
    """LtxvApiTextToVideo.duration lists [6, 8, ..., 20] (ints) in the real 0.33 /object_info."""
    flow = {"1": {"class_type": "LtxvApiTextToVideo",
                  "inputs": {"model": "LTX-2 (Fast)", "prompt": "a cat", "duration": 10, "resolution": "1920x1080",
                             "fps": 50, "generate_audio": False}},
            "9": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "o"}}}
    node = _node(tmp_path, flow)
    duration = node["wf_1__duration"]
    assert duration.values() == ["6", "8", "10", "12", "14", "16", "18", "20"] and duration.value() == "10"
    static, _ = workflow_tab.read_values(node, [])
    assert static["1.duration"] == 10 and static["1.fps"] == 50 and static["1.model"] == "LTX-2 (Fast)"
    duration.setValue("20")
    assert workflow_tab.read_values(node, [])[0]["1.duration"] == 20
    workflow_tab.reset(node)
    assert duration.value() == "10"


def test_an_animated_sampler_sends_the_sampler_name_at_each_frame(tmp_path: Path) -> None:
    flow = {"3": {"class_type": "KSampler",
                  "inputs": {"seed": 1, "steps": 4, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal",
                             "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["6", 0],
                             "latent_image": ["5", 0]}},
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
            **_text_flow("a cat")}
    node = _node(tmp_path, flow)
    sampler = node["wf_3__sampler_name"]
    sampler.setAnimated()
    sampler.setValueAt("euler", 1001)
    sampler.setValueAt("dpmpp_2m", 1002)
    assert isinstance(sampler.valueAt(1002), float)  # Nuke gives the index of an animated pull-down
    _, per_frame = workflow_tab.read_values(node, [1001, 1002])
    assert per_frame["3.sampler_name"] == {"1001": "euler", "1002": "dpmpp_2m"}


def test_a_value_no_server_lists_builds_the_tab_and_render_names_the_server(tmp_path: Path) -> None:
    flow = json.loads((Path(__file__).resolve().parents[2] / "examples/img2img.json").read_text())
    flow["4"]["inputs"]["ckpt_name"] = "v1-5-pruned.safetensors"
    info = json.loads(json.dumps(SIM_INFO))  # the recorded answer listed no checkpoints: this server has one
    info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] = ["sim-model.safetensors"]
    node = _node(tmp_path, flow, info)
    knob = node["wf_4__ckpt_name"]
    assert knob.value() == "v1-5-pruned.safetensors" + tab_knobs.MISSING
    assert "wf_6__text" in node.knobs(), "the rest of the tab is built"
    assert workflow_tab.read_values(node, [])[0]["4.ckpt_name"] == "v1-5-pruned.safetensors"
    with pytest.raises(knobs.NodeSetupError, match=r"server gpu1 lacks .*v1-5-pruned\.safetensors.*Pick a value"):
        render_check.vet(node, [1], {"gpu1": info})
    knob.setValue("sim-model.safetensors")
    assert render_check.vet(node, [1], {"gpu1": info}) is None  # every server has it now


def test_edits_and_the_tcl_box_survive_save_reopen_and_a_rebuild(tmp_path: Path) -> None:
    node = _node(tmp_path, _text_flow("a [frame] cat"))
    node["wf_6__text__tcl"].setValue(True)
    script = tmp_path / "shot.nk"
    nuke.scriptSaveAs(str(script), 1)
    nuke.scriptOpen(str(script))
    node = nuke.allNodes(knobs.NODE_CLASS)[0]
    assert node["wf_6__text"].getText() == "a [frame] cat" and node["wf_6__text__tcl"].value() is True
    workflow_tab.build(node, REAL)
    assert node["wf_6__text__tcl"].value() is True
    assert workflow_tab.read_values(node, [3])[1]["6.text"] == {"3": "a 3 cat"}


def _recorded(name: str) -> Dict[str, Any]:
    return json.loads((Path(__file__).parent / "data" / name).read_text())


def test_what_the_tab_sends_is_what_a_real_server_echoed_back(tmp_path: Path) -> None:
    """Recorded on a real ComfyUI 0.33.0: the text and the 2**40 + 3 the tab sent came back unchanged
    from PreviewAny (comfyui-0.33-verbatim-text-and-wide-int.json); the tab, rebuilt from the same
    workflow and /object_info, reads exactly those values."""
    recorded = _recorded("comfyui-0.33-verbatim-text-and-wide-int.json")
    sent = recorded["sent_prompt"]
    node = _node(tmp_path, sent)
    static, _ = workflow_tab.read_values(node, [1])
    assert static == {"1.value": PROMPT, "3.value": 2 ** 40 + 3}
    assert static["1.value"] == sent["1"]["inputs"]["value"] and static["3.value"] == sent["3"]["inputs"]["value"]
    echoed = recorded["history"]["outputs"]
    assert echoed["2"]["text"] == [PROMPT] and echoed["4"]["text"] == [str(2 ** 40 + 3)]


def test_an_integer_combo_is_read_back_as_the_integer_a_real_server_accepts(tmp_path: Path) -> None:
    """Recorded on a real ComfyUI 0.33.0 (comfyui-0.33-int-combo-validation.json): upscale_factor "2"
    is `value_not_in_list`, 2 is accepted."""
    recorded = _recorded("comfyui-0.33-int-combo-validation.json")
    refused = [e["type"] for e in recorded["text"]["answer"]["node_errors"]["1"]["errors"]]
    accepted = [e["type"] for e in recorded["int"]["answer"]["node_errors"]["1"]["errors"]]
    assert "value_not_in_list" in refused and "value_not_in_list" not in accepted
    node = _node(tmp_path, recorded["int"]["sent_prompt"])
    node["wf_1__upscale_factor"].setValue("2")
    value = workflow_tab.read_values(node, [])[0]["1.upscale_factor"]
    assert value == recorded["int"]["sent_prompt"]["1"]["inputs"]["upscale_factor"] and type(value) is int


def test_a_value_its_node_checks_itself_is_kept_and_never_blocks_the_render(tmp_path: Path) -> None:
    """ModelAttentionBackend validates `attention` itself (ComfyUI 0.33.0, VALIDATE_INPUTS in
    comfy_extras/nodes_model_advanced.py), so a real 0.33.0 queued 'comfy kitchen attention' although
    its list held only 'pytorch attention' (tests/core/data/object_info, the template verdicts)."""
    flow = json.loads((Path(__file__).resolve().parents[2] / "examples/img2img.json").read_text())
    flow["20"] = {"class_type": "ModelAttentionBackend",
                  "inputs": {"model": ["4", 0], "attention": "comfy kitchen attention"}}
    flow["3"]["inputs"]["model"] = ["20", 0]
    info = json.loads(json.dumps(SIM_INFO))
    info["ModelAttentionBackend"] = {"input": {"required": {"model": ["MODEL"], "attention": [["pytorch attention"]]}},
                                     "output": ["MODEL"], "output_node": False}
    node = _node(tmp_path, flow, info)
    assert node["wf_20__attention"].value() == "comfy kitchen attention" + tab_knobs.MISSING
    assert "checks its value itself" in node[workflow_tab.NOTES].value()
    assert workflow_tab.read_values(node, [])[0]["20.attention"] == "comfy kitchen attention"
    assert render_check.vet(node, [1], {"gpu1": info}) is None  # not refused, not narrowed
