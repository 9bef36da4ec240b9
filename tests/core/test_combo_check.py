"""COMBO values against each server's recorded /object_info: the knob's values, every frame's, by server."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.combo_check import check_servers, missing_combo_values, nodes_the_server_runs
from nuke_comfyui.core.studio_workflows import check_workflow
from nuke_comfyui.core.workflow_inputs import list_inputs

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = Path("/work/shared/comfyui-0.8-captures/00_object_info_subset.json")
RECORDED = json.loads((CAPTURE if CAPTURE.is_file() else ROOT / "nuke_comfyui/sim/data/object_info.json").read_text())
FLOW = ROOT / "examples/img2img.json"


def _lacking(sampler: str) -> dict:
    info = copy.deepcopy(RECORDED)
    info["KSampler"]["input"]["required"]["sampler_name"][0].remove(sampler)
    return info


def test_every_frames_value_is_judged_per_server():
    per_server = {"gpu1": RECORDED, "gpu2": _lacking("dpmpp_2m"), "gpu3": _lacking("euler")}
    inputs = list_inputs(wf.load_workflow(str(FLOW)), RECORDED)
    verdict = check_servers(inputs, {"3.sampler_name": ["euler", "dpmpp_2m", "euler"]}, per_server)
    assert verdict.passing == ["gpu1"]
    assert verdict.lacking == {"gpu2": ["KSampler > sampler_name: 'dpmpp_2m'"],
                               "gpu3": ["KSampler > sampler_name: 'euler'"]}
    assert check_servers(inputs, {}, per_server).lacking == {"gpu3": ["KSampler > sampler_name: 'euler'"]}


def test_check_workflow_uses_the_nodes_values_not_only_the_files():
    per_server = {"gpu1": RECORDED, "gpu2": _lacking("dpmpp_2m")}
    assert check_workflow(str(FLOW), per_server) == []
    assert check_workflow(str(FLOW), per_server, {"3.sampler_name": "dpmpp_2m"}) == [
        "KSampler > sampler_name: 'dpmpp_2m' is not on server gpu2"]


def test_settings_file_folder_and_the_variable_that_wins(tmp_path):
    from nuke_comfyui.core.config_loader import load_config

    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"workflows_folder": "/studio/flows"}))
    assert load_config(path, environ={}).cluster.workflows_folder == "/studio/flows"
    loaded = load_config(path, environ={"NUKE_COMFYUI_WORKFLOWS": "/farm/flows"})
    assert loaded.cluster.workflows_folder == "/farm/flows"
    assert loaded.cluster_variables == {"workflows_folder": "NUKE_COMFYUI_WORKFLOWS"}
    assert loaded.file_cluster == {"workflows_folder": "/studio/flows"}


def test_only_nodes_feeding_an_output_are_judged_as_comfyui_validates() -> None:
    """ComfyUI validates the output nodes and what feeds them; a dangling loader with a checkpoint
    the server lacks stops nothing (measured on a real 0.33.0: the official template
    audio_ace_step_1_5_split_llm.json is queued with a missing VAE on an unused branch)."""
    flow = wf.load_workflow(str(FLOW))
    flow["90"] = copy.deepcopy(flow["3"])  # a second sampler whose result nothing uses
    flow["90"]["inputs"]["sampler_name"] = "no_such_sampler"
    runs = nodes_the_server_runs(flow, RECORDED)
    assert runs is not None and "90" not in runs and {"3", "4", "9"} <= runs
    inputs = list_inputs(flow, RECORDED)
    assert check_servers(inputs, {}, {"gpu1": RECORDED}, runs).lacking == {}
    assert check_servers(inputs, {}, {"gpu1": RECORDED}).lacking  # judged without `runs`: refused
    assert missing_combo_values(inputs, {}, {"gpu1": RECORDED}, runs) == []
    unknown = dict(flow, **{"91": {"class_type": "NoSuchNode", "inputs": {}}})
    assert nodes_the_server_runs(unknown, RECORDED) is None  # an unknown class: judge everything
    unmarked = copy.deepcopy(RECORDED)
    for entry in unmarked.values():
        entry.pop("output_node", None)
    assert nodes_the_server_runs(flow, unmarked) is None  # no output flags at all: judge everything


def test_an_input_its_node_validates_itself_is_not_judged_by_the_list() -> None:
    """ModelAttentionBackend's VALIDATE_INPUTS takes `attention` (ComfyUI 0.33.0,
    comfy_extras/nodes_model_advanced.py), so ComfyUI skips the list check and runs 'comfy kitchen
    attention' on a server that lists only 'pytorch attention' (it falls back at run time)."""
    info = {"ModelAttentionBackend": {"input": {"required": {"model": ["MODEL"], "attention": [["pytorch attention"]]}},
                                      "output": ["MODEL"], "output_node": False}}
    prompt = {"1": {"class_type": "ModelAttentionBackend", "inputs": {"model": ["0", 0],
                                                                       "attention": "comfy kitchen attention"}}}
    inputs = list_inputs(prompt, info)
    assert [item.name for item in inputs] == ["attention"]
    assert check_servers(inputs, {}, {"gpu1": info}).lacking == {}
