"""Frame batches from the Comfy node (fake Nuke, simulated servers): the knobs, Render, headless,
and Submit to farm's bundle carrying the same chunks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import nuke
import pytest

from nuke_comfyui.host import frame_batch_knobs, headless, job_state, render, workflow_tab
from nuke_comfyui.host.knobs import NodeSetupError
from nuke_comfyui.host.session import get_session

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SIM_INFO = json.loads((EXAMPLES.parent / "nuke_comfyui/sim/data/object_info.json").read_text())


def configure(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch, count: int = 2) -> Any:
    cluster = sim_cluster(count)
    configs: List[Dict[str, Any]] = [{"name": f"gpu{i + 1}", "host": "127.0.0.1", "port": port}
                                     for i, port in enumerate(cluster.ports)]
    monkeypatch.setenv("NUKE_COMFYUI_SERVERS", json.dumps(configs))
    monkeypatch.setenv("NUKE_COMFYUI_POLL_INTERVAL", "0.2")
    return cluster


def comfy_node(tmp_path: Path, frames: str = "1001-1012") -> Any:
    plate_dir = tmp_path / "plate"
    plate_dir.mkdir()
    first, last = (int(x) for x in frames.split("-"))
    write = nuke.nodes.Write(file=str(plate_dir / "plate.%04d.png"))
    write.setInput(0, nuke.nodes.Constant())
    nuke.execute(write, first, last)
    nuke.delete(write)
    read = nuke.nodes.Read(file=str(plate_dir / "plate.%04d.png"), first=first, last=last)
    comfy = nuke.createNode("ComfyRender")
    comfy.setInput(0, read)
    comfy["workflow_file"].setValue(str(EXAMPLES / "temporal_batch.json"))
    comfy["frame_range_mode"].setValue("custom")
    comfy["custom_frames"].setValue(frames)
    comfy["output_dir"].setValue(str(tmp_path / "renders"))
    return comfy


def test_the_gizmo_has_the_frame_batch_knobs_with_frame_by_frame_defaults() -> None:
    node = nuke.createNode("ComfyRender")
    for name in frame_batch_knobs.FRAME_BATCH_KNOBS:
        assert name in node.knobs(), f"{name} missing from gizmos/ComfyRender.gizmo"
    assert node["seam"].values() == ["crossfade", "cut"]
    assert node["chunk_seeds"].values() == ["same", "per-chunk"]
    assert frame_batch_knobs.read_frame_batch(node) == {"chunk_size": 1, "overlap": 0, "seam": "crossfade",
                                                        "chunk_seeds": "same", "split_on_oom": False}


def test_a_chunk_size_below_one_is_named() -> None:
    node = nuke.createNode("ComfyRender")
    node["chunk_size"].setValue(0)
    with pytest.raises(NodeSetupError, match="'frames per chunk' is 0; set it to 1"):
        frame_batch_knobs.read_frame_batch(node)


def test_render_button_sends_chunks_and_the_reads_get_every_frame(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path, pump: Any) -> None:
    cluster = configure(sim_cluster, monkeypatch)
    node = comfy_node(tmp_path)
    node["chunk_size"].setValue(5)
    node["overlap"].setValue(1)
    name = node.name()
    render.render_node(name)
    pump(lambda: job_state.load(nuke.toNode(name)).state in ("completed", "partial", "failed"), 30)
    state = job_state.load(nuke.toNode(name))
    assert state.state == "completed"
    snapshot = get_session().farm.scheduler.snapshot(state.group_id)
    assert [job.frames for job in snapshot.jobs] == [tuple(range(1001, 1006)), tuple(range(1005, 1010)),
                                                     tuple(range(1009, 1013))]
    assert sum(s.prompt_count for s in cluster.servers) == 3
    read = nuke.toNode(f"{name}_var01")
    pattern = str(read["file"].value())
    for frame in range(1001, 1013):
        assert Path(pattern % frame).is_file(), frame


def test_headless_renders_the_saved_nodes_chunks(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 capsys: Any) -> None:
    cluster = configure(sim_cluster, monkeypatch, count=1)
    node = comfy_node(tmp_path, "1001-1008")
    node["chunk_size"].setValue(4)
    node["seam"].setValue("cut")
    name = node.name()
    script = tmp_path / "shot.nk"
    nuke.scriptSave(str(script))
    code = headless.main([str(script), "--nodes", name, "--poll", "0.05", "--no-save"])
    assert code == 0, capsys.readouterr()
    assert cluster.servers[0].prompt_count == 2  # two chunks of four


def test_submit_to_farm_carries_the_chunking(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    configure(sim_cluster, monkeypatch, count=1)
    node = comfy_node(tmp_path, "1001-1020")
    node["chunk_size"].setValue(8)
    node["overlap"].setValue(2)
    request = render.node_request(node, get_session())
    assert (request.chunk_size, request.overlap, request.seam, request.chunk_seeds) == (8, 2, "crossfade", "same")
    from nuke_comfyui.farm_bundle.template import BundleOptions, job_template, parameter_values

    template = job_template(request, BundleOptions())
    assert [step["name"] for step in template["steps"]] == ["Render", "Seams"]
    assert parameter_values(request, BundleOptions())["ChunkStarts"] == "1001-1013:6"


def test_a_knob_keyed_inside_a_chunk_is_said_when_render_is_pressed(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path, pump: Any,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    configure(sim_cluster, monkeypatch, count=1)
    node = comfy_node(tmp_path, frames="1001-1010")
    node["chunk_size"].setValue(5)
    assert workflow_tab.build(node, SIM_INFO) == []  # the Workflow tab, as the node's knobChanged builds it
    sigma = node["wf_2__sigma"]
    sigma.setAnimated()
    for frame in range(1001, 1011):  # a key per frame: the fake refuses to guess Nuke's interpolation
        sigma.setValueAt(1.0 if frame < 1003 else 2.0, frame)
    name = node.name()
    render.render_node(name)
    pump(lambda: job_state.load(nuke.toNode(name)).state in ("completed", "partial", "failed"), 30)
    said = [r.getMessage() for r in caplog.records if "animated within chunk" in r.getMessage()]
    assert said == [f"{name}: input 2.sigma is animated within chunk 1001-1005 (from 1.0 to 2.0); a chunk is one "
                    "prompt, so each chunk sends its value at its first frame: key it once per chunk, or render "
                    "per frame to follow it"]
