"""The Workflow tab: knobs from the recorded object_info, per-frame values, .nk persistence, reload, reset.

Fake-nuke behaviours relied on (Foundry's Python API reference): Int/Double/Boolean/Enumeration
and EvalString knobs, Array_Knob.setAnimated/setValueAt/valueAt, String_Knob.value(OutputContext)
with TCL `[frame]`, user knobs and curves written by scriptSaveAs and read by scriptOpen.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nuke

from nuke_comfyui.host import knobs, workflow_tab

ROOT = Path(__file__).resolve().parents[2]
SIM_INFO = json.loads((ROOT / "nuke_comfyui/sim/data/object_info.json").read_text())


def _node(tmp_path: Path) -> nuke.Node:
    flow = tmp_path / "shot.json"
    shutil.copy(ROOT / "examples/img2img.json", flow)
    node = nuke.createNode(knobs.NODE_CLASS)
    node["workflow_file"].setValue(str(flow))
    return node


def test_knobs_are_typed_from_object_info_and_seeds_stay_out(tmp_path: Path) -> None:
    node = _node(tmp_path)
    assert workflow_tab.build(node, SIM_INFO) == []
    present = node.knobs()
    assert isinstance(present["wf_3__steps"], nuke.Int_Knob) and present["wf_3__steps"].value() == 4
    assert isinstance(present["wf_3__denoise"], nuke.Double_Knob)
    assert "euler" in present["wf_3__sampler_name"].values()
    assert isinstance(present["wf_6__text"], nuke.Multiline_Eval_String_Knob)
    assert "wf_3__seed" not in present and "wf_1__image" not in present
    notes = workflow_tab.build(node, None)
    assert any("no server answered /object_info" in n for n in notes)


def test_animated_and_tcl_knobs_are_read_per_frame(tmp_path: Path) -> None:
    node = _node(tmp_path)
    workflow_tab.build(node, SIM_INFO)
    denoise = node["wf_3__denoise"]
    denoise.setAnimated()
    denoise.setValueAt(0.2, 1001)
    denoise.setValueAt(0.5, 1002)  # a key per frame: the fake refuses to guess Nuke's smooth interpolation
    denoise.setValueAt(0.8, 1003)
    node["wf_6__text"].setValue("shot frame [frame]")
    node["wf_6__text__tcl"].setValue(True)  # the artist asks for TCL on this input
    node["wf_3__steps"].setValue(12)
    static, per_frame = workflow_tab.read_values(node, [1001, 1002, 1003])
    assert static["3.steps"] == 12 and "3.denoise" not in static
    assert per_frame["3.denoise"]["1001"] == 0.2 and per_frame["3.denoise"]["1003"] == 0.8
    assert per_frame["3.denoise"]["1002"] == 0.5
    assert per_frame["6.text"] == {"1001": "shot frame 1001", "1002": "shot frame 1002", "1003": "shot frame 1003"}


def test_values_survive_save_reopen_and_reload_names_dropped_inputs(tmp_path: Path) -> None:
    node = _node(tmp_path)
    workflow_tab.build(node, SIM_INFO)
    node["wf_3__steps"].setValue(33)
    node["wf_3__cfg"].setAnimated()
    node["wf_3__cfg"].setValueAt(4.0, 1)
    node["wf_3__cfg"].setValueAt(9.0, 10)
    script = tmp_path / "shot.nk"
    nuke.scriptSaveAs(str(script), 1)
    nuke.scriptClear()
    nuke.scriptOpen(str(script))
    node = nuke.allNodes(knobs.NODE_CLASS)[0]
    assert node["wf_3__steps"].value() == 33 and node["wf_3__cfg"].valueAt(10) == 9.0
    flow = Path(str(node["workflow_file"].value()))
    changed = json.loads(flow.read_text())
    del changed["3"]["inputs"]["cfg"]
    flow.write_text(json.dumps(changed))
    notes = workflow_tab.build(node, SIM_INFO)
    assert node["wf_3__steps"].value() == 33 and "wf_3__cfg" not in node.knobs()
    assert any("dropped" in n and "3.cfg" in n for n in notes)
    workflow_tab.reset(node)
    assert node["wf_3__steps"].value() == 4


def test_per_frame_knob_values_reach_the_prompts_on_the_simulator(
    sim_cluster: Any, tmp_path: Path, pump: Any, monkeypatch: Any
) -> None:
    from nuke_comfyui.host import job_state, render
    from nuke_comfyui.host.session import get_session

    cluster = sim_cluster(2)
    monkeypatch.setenv("NUKE_COMFYUI_SERVERS", json.dumps(
        [{"name": f"gpu{i}", "host": "127.0.0.1", "port": p} for i, p in enumerate(cluster.ports)]))
    monkeypatch.setenv("NUKE_COMFYUI_POLL_INTERVAL", "0.2")
    plate = tmp_path / "plate"
    plate.mkdir()
    write = nuke.nodes.Write(file=str(plate / "plate.%04d.png"))
    write.setInput(0, nuke.nodes.Constant())
    nuke.execute(write, 1001, 1003)
    nuke.delete(write)
    node = _node(tmp_path)
    node.setInput(0, nuke.nodes.Read(file=str(plate / "plate.%04d.png"), first=1001, last=1003))
    node["frame_range_mode"].setValue("custom")
    node["custom_frames"].setValue("1001-1003")
    node["output_dir"].setValue(str(tmp_path / "renders"))
    workflow_tab.build(node, SIM_INFO)
    denoise = node["wf_3__denoise"]
    denoise.setAnimated()
    for frame, value in ((1001, 0.25), (1002, 0.5), (1003, 0.75)):
        denoise.setValueAt(value, frame)
    node["wf_6__text"].setValue("plate at [frame]")
    node["wf_6__text__tcl"].setValue(True)
    group_id = render.render_node(node.name())
    pump(lambda: job_state.load(nuke.toNode(node.name())).state in ("completed", "partial", "failed"), 30)
    snap = get_session().farm.scheduler.snapshot(group_id)
    assert snap.state.value == "completed", [j.error for j in snap.jobs if j.error]
    from PIL import Image

    sent = {}
    for job in snap.jobs:
        with Image.open(job.outputs[0]) as img:
            sent[job.frame] = json.loads(img.text["prompt"])
    assert {f: p["3"]["inputs"]["denoise"] for f, p in sent.items()} == {1001: 0.25, 1002: 0.5, 1003: 0.75}
    assert {f: p["6"]["inputs"]["text"] for f, p in sent.items()} == {f: f"plate at {f}" for f in (1001, 1002, 1003)}


def test_studio_pick_list_validates_on_pick(tmp_path: Path, monkeypatch: Any) -> None:
    studio = tmp_path / "studio"
    studio.mkdir()
    shutil.copy(ROOT / "examples/img2img.json", studio / "a_img2img.json")
    shutil.copy(ROOT / "tests/core/data/ui_img2img_saved.json", studio / "b_saved.json")
    (studio / "a_img2img.nkc.json").write_text('{"nuke_comfyui_sidecar": 1, "inputs": ["3.steps"]}')
    monkeypatch.setenv("NUKE_COMFYUI_WORKFLOWS", str(studio))
    node = _node(tmp_path)
    workflow_tab.build(node, SIM_INFO)
    assert node[workflow_tab.PICK].values() == ["a_img2img.json", "b_saved.json"]
    lacking = json.loads(json.dumps(SIM_INFO))
    lacking["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] = ["other.safetensors"]
    node[workflow_tab.PICK].setValue("b_saved.json")
    notes = workflow_tab.pick(node, {"gpu1": SIM_INFO, "gpu2": lacking})
    assert node["workflow_file"].value() == str(studio / "b_saved.json")
    assert notes == ["Load Checkpoint > ckpt_name: 'sim-model.safetensors' is not on server gpu2"]
    assert node["wf_3__steps"].value() == 28 and "gpu2" in node[workflow_tab.NOTES].value()
    node[workflow_tab.PICK].setValue("a_img2img.json")
    assert workflow_tab.pick(node, {"gpu1": SIM_INFO}) == []
    assert [k for k in node.knobs() if k.startswith("wf_3__")] == ["wf_3__steps"]  # the sidecar's choice
    assert workflow_tab.pick(node, {}) and "no server answered" in node[workflow_tab.NOTES].value()
