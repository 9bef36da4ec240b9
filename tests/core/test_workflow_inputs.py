"""UI-format conversion, the workflow-inputs model, typing, --set parsing, sidecar and image inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

from nuke_comfyui.core import ui_workflow
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.combo_check import missing_combo_values
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.image_inputs import image_inputs
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.workflow_inputs import (
    InputValueError,
    coerce,
    find_input,
    list_inputs,
    parse_assignments,
)
from nuke_comfyui.core.workflow_sidecar import apply, image_slots, load_sidecar, sidecar_path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
SIM_INFO: Dict[str, Any] = json.loads((ROOT / "nuke_comfyui/sim/data/object_info.json").read_text())
CAPTURE = Path("/work/shared/comfyui-0.8-captures/00_object_info_subset.json")


def _ui(name: str) -> Dict[str, Any]:
    return json.loads((DATA / name).read_text())


def test_ui_save_converts_like_export_api() -> None:
    prompt = ui_workflow.convert(_ui("ui_img2img_saved.json"), SIM_INFO)
    assert list(prompt) == ["4", "10", "6", "7", "11", "3", "8", "9"]  # execution order; notes/reroute/primitive gone
    assert prompt["3"]["inputs"] == {"model": ["4", 0], "seed": 156680208700286, "steps": 28, "cfg": 7.5,
                                     "sampler_name": "euler", "scheduler": "normal", "positive": ["6", 0],
                                     "negative": ["7", 0], "latent_image": ["11", 0], "denoise": 0.6}
    assert prompt["8"]["inputs"]["vae"] == ["4", 2]  # through the reroute
    assert prompt["9"]["inputs"] == {"images": ["8", 0], "filename_prefix": "ComfyUI"}  # bypassed sharpen
    assert "13" not in prompt and "12" not in prompt  # muted blur, bypassed sharpen
    assert prompt["6"]["_meta"]["title"] == "Positive" and prompt["11"]["_meta"]["title"] == "VAE Encode"
    assert wf.validate(prompt) is prompt


@pytest.mark.skipif(not CAPTURE.exists(), reason="recorded ComfyUI object_info not available")
def test_conversion_with_the_recorded_object_info() -> None:
    info = json.loads(CAPTURE.read_text())
    prompt = ui_workflow.convert(_ui("ui_inpaint_saved.json"), {**info, "MaskToImage": SIM_INFO["MaskToImage"]})
    assert prompt["2"]["inputs"] == {"image": "matte.png", "channel": "alpha"}  # upload widget value ignored
    assert prompt["3"]["inputs"] == {"mask": ["1", 1]}


def test_load_workflow_converts_a_saved_file_with_object_info(tmp_path: Path) -> None:
    path = tmp_path / "saved.json"
    path.write_text((DATA / "ui_img2img_saved.json").read_text())
    assert wf.load_workflow(path, SIM_INFO)["3"]["inputs"]["steps"] == 28
    with pytest.raises(WorkflowError, match=r"no server answered /object_info.*Export \(API\)"):
        wf.load_workflow(path)


def test_group_nodes_and_unknown_classes_are_named() -> None:
    """Subgraphs convert now (tests/core/ui_convert); legacy group nodes and unknown classes are refused by name."""
    data = _ui("ui_img2img_saved.json")
    data["nodes"].append({"id": 40, "type": "workflow>Detailer", "title": "Detailer",
                          "mode": 0, "inputs": [], "outputs": []})
    data["extra"] = {"groupNodes": {"Detailer": {"nodes": []}}}
    with pytest.raises(WorkflowError, match=r"node 40 .*'Detailer'.*legacy group node.*convert it to a subgraph"):
        ui_workflow.convert(data, SIM_INFO)
    data = _ui("ui_img2img_saved.json")
    data["nodes"].append({"id": 41, "type": "FaceDetailer", "mode": 0, "inputs": [], "outputs": []})
    with pytest.raises(WorkflowError, match=r"node 41 \(FaceDetailer\).*'FaceDetailer'.*Export \(API\)"):
        ui_workflow.convert(data, SIM_INFO)


def test_inputs_typed_from_object_info_and_from_json_without() -> None:
    flow = wf.load_workflow(ROOT / "examples/img2img.json")
    typed = {i.key: i for i in list_inputs(flow, SIM_INFO)}
    steps, cfg, sampler = typed["3.steps"], typed["3.cfg"], typed["3.sampler_name"]
    assert (steps.kind, steps.minimum, steps.maximum) == ("INT", 1, 10000)
    assert (cfg.kind, cfg.step) == ("FLOAT", 0.1)
    assert sampler.kind == "COMBO" and "euler" in sampler.options
    assert typed["6.text"].multiline and typed["3.seed"].is_seed
    assert "1.image" not in typed and not any(k.endswith("filename_prefix") for k in typed)
    assert [i.node for i in typed.values()] == sorted((i.node for i in typed.values()), key=list(flow).index)
    guessed = {i.key: i for i in list_inputs(flow, None)}
    assert guessed["3.denoise"].kind == "FLOAT" and guessed["3.denoise"].typed_by == "json"
    assert guessed["3.sampler_name"].kind == "STRING"


def test_values_are_typed_like_the_knobs() -> None:
    inputs = list_inputs(wf.load_workflow(ROOT / "examples/img2img.json"), SIM_INFO)
    assert parse_assignments(inputs, ["3.steps=12", "KSampler.denoise=0.35", "positive.text=a red barn"]) == {
        "3.steps": 12, "3.denoise": 0.35, "6.text": "a red barn"}
    with pytest.raises(InputValueError, match=r"3.steps .* whole number, not 'many'"):
        parse_assignments(inputs, ["3.steps=many"])
    with pytest.raises(InputValueError, match="below the minimum 1"):
        parse_assignments(inputs, ["3.steps=0"])
    with pytest.raises(InputValueError, match="'warp' is not one of the server's choices"):
        parse_assignments(inputs, ["3.sampler_name=warp"])
    with pytest.raises(InputValueError, match="is a seed; use --base-seed"):
        parse_assignments(inputs, ["3.seed=5"])
    with pytest.raises(InputValueError, match="no node 'nope'"):
        find_input(inputs, "nope.steps")
    with pytest.raises(InputValueError, match=r"must be NODE\.INPUT=VALUE"):
        parse_assignments(inputs, ["3.steps"])
    assert coerce(next(i for i in inputs if i.key == "3.cfg"), 7) == 7.0


def test_combo_values_a_server_lacks_are_named() -> None:
    flow = wf.load_workflow(ROOT / "examples/img2img.json")
    inputs = list_inputs(flow, SIM_INFO)
    other = json.loads(json.dumps(SIM_INFO))
    other["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] = ["sdxl.safetensors"]
    problems = missing_combo_values(inputs, {}, {"gpu01": SIM_INFO, "gpu02": other})
    assert problems == ["Load Checkpoint > ckpt_name: 'sim-model.safetensors' is not on server gpu02"]


def test_sidecar_chooses_labels_and_orders(tmp_path: Path) -> None:
    flow_path = tmp_path / "shot_v3.json"
    flow_path.write_text((ROOT / "examples/img2img.json").read_text())
    assert sidecar_path(str(flow_path)).name == "shot_v3.nkc.json"
    assert apply(load_sidecar(str(flow_path)), []).inputs == []
    sidecar_path(str(flow_path)).write_text(json.dumps({
        "nuke_comfyui_sidecar": 1,
        "inputs": [{"input": "3.denoise", "label": "Denoise"}, "Positive.text", "3.nothing"],
        "images": [{"node": "Nuke Input", "label": "Plate", "required": True}, {"node": "depth"}]}))
    inputs = list_inputs(wf.load_workflow(flow_path), SIM_INFO)
    view = apply(load_sidecar(str(flow_path)), inputs)
    assert [(i.key, i.label) for i in view.inputs] == [("3.denoise", "Denoise"), ("6.text", "")]
    assert len(view.hidden) == len(inputs) - 2
    assert len(view.problems) == 1 and "no input 'nothing'" in view.problems[0]
    slots, problems = image_slots(load_sidecar(str(flow_path)), image_inputs(wf.load_workflow(flow_path)))
    assert [(s.image.node, s.label, s.required) for s in slots] == [("1", "Plate", True)]
    assert problems == ["sidecar shot_v3.nkc.json: no image-loading node 'depth' in the workflow"]
    sidecar_path(str(flow_path)).write_text("{}")
    with pytest.raises(WorkflowError, match="nuke_comfyui_sidecar"):
        load_sidecar(str(flow_path))


def test_mask_inputs_know_their_alpha() -> None:
    found = {i.node: i for i in image_inputs(ui_workflow.convert(_ui("ui_inpaint_saved.json"), SIM_INFO))}
    assert found["1"].invert_alpha and found["2"].invert_alpha and found["2"].title == "holdout"
    plain = image_inputs(wf.load_workflow(ROOT / "examples/img2img.json"))
    assert [(i.node, i.uses_alpha) for i in plain] == [("1", False)]


def test_request_values_per_frame_round_trip() -> None:
    request = RenderRequest(workflow_path="/w.json", output_dir="/o", frames="1-3",
                            values={"3.denoise": 0.5, "6.text": "a"},
                            frame_values={"3.denoise": {"2": 0.7}}, images={"12": "/m.####.png"})
    again = RenderRequest.from_json(request.to_json())
    assert again == request
    assert again.values_for(1) == {"3.denoise": 0.5, "6.text": "a"}
    assert again.values_for(2) == {"3.denoise": 0.7, "6.text": "a"}
    assert request.keeps_workflow_seed() and not RenderRequest("/w", "/o", base_seed=0).keeps_workflow_seed()
    with pytest.raises(Exception, match="frame_values"):
        RenderRequest("/w", "/o", frame_values={"3.denoise": {"x": 1}}).validate()
    with pytest.raises(Exception, match="give a frame set"):
        RenderRequest("/w", "/o", images={"12": "/m.####.png"}).validate()
