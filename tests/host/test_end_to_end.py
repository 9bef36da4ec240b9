"""End to end in the fake Nuke on simulated servers: Render button to Read nodes, headless, a server
killed mid-render, and a reopened script re-attaching to its journaled group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import nuke
import pytest

from nuke_comfyui.host import headless, job_state, render
from nuke_comfyui.host.session import get_session, shutdown_session

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FINAL = ("completed", "partial", "failed", "cancelled")


@pytest.fixture()
def servers(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    def start(count: int = 3, **options: Any) -> Any:
        cluster = sim_cluster(count, **options)
        configs = [{"name": f"gpu{i + 1}", "host": "127.0.0.1", "port": port} for i, port in enumerate(cluster.ports)]
        monkeypatch.setenv("NUKE_COMFYUI_SERVERS", json.dumps(configs))
        monkeypatch.setenv("NUKE_COMFYUI_POLL_INTERVAL", "0.2")
        return cluster

    return start


def build_script(tmp_path: Path, frames: str = "1001-1012") -> str:
    plate_dir = tmp_path / "plate"
    plate_dir.mkdir()
    constant = nuke.nodes.Constant()
    write = nuke.nodes.Write(file=str(plate_dir / "plate.%04d.png"))
    write.setInput(0, constant)
    first, last = (int(x) for x in frames.split("-"))
    nuke.execute(write, first, last)
    nuke.delete(write)
    read = nuke.nodes.Read(file=str(plate_dir / "plate.%04d.png"), first=first, last=last)
    comfy = nuke.createNode("ComfyRender")
    comfy.setInput(0, read)
    comfy["workflow_file"].setValue(str(EXAMPLES / "invert.json"))
    comfy["frame_range_mode"].setValue("custom")
    comfy["custom_frames"].setValue(frames)
    comfy["output_dir"].setValue(str(tmp_path / "renders"))
    return comfy.name()


def finished(name: str) -> Callable[[], bool]:
    return lambda: job_state.load(nuke.toNode(name)).state in FINAL


def check_reads(name: str, first: int, last: int) -> None:
    read = nuke.toNode(f"{name}_v01")
    assert read is not None and read.Class() == "Read"
    assert [read[k].value() for k in ("first", "last", "origfirst", "origlast")] == [first, last, first, last]
    assert read["on_error"].value() == "error"
    pattern = str(read["file"].value())
    assert "%04d" in pattern
    for frame in range(first, last + 1):
        assert Path(pattern % frame).is_file(), pattern % frame


def test_render_button_gives_a_read_node_with_every_frame(servers: Any, tmp_path: Path, pump: Any) -> None:
    cluster = servers(3)
    name = build_script(tmp_path)
    render.render_node(name)
    pump(finished(name), 30)
    pump(lambda: nuke.toNode(f"{name}_v01") is not None and nuke.toNode(f"{name}_v01")["on_error"].value() == "error")
    assert job_state.load(nuke.toNode(name)).state == "completed"
    check_reads(name, 1001, 1012)
    assert sum(len(s.executed_ids) for s in cluster.servers) == 12
    assert sum(1 for s in cluster.servers if s.executed_ids) >= 2  # spread over the farm
    assert "12/12" in str(nuke.toNode(name)["status"].value())


def test_headless_entry_renders_the_saved_script(servers: Any, tmp_path: Path, capsys: Any) -> None:
    servers(3)
    name = build_script(tmp_path)
    script = tmp_path / "shot.nk"
    nuke.scriptSave(str(script))
    nuke._fake_reset(gui=False)
    nuke.pluginAddPath(str(Path(__file__).resolve().parents[2] / "gizmos"), addToSysPath=False)
    code = headless.main([str(script), "--nodes", name, "--frames", "1001-1012", "--poll", "0.05"])
    assert code == 0, capsys.readouterr()
    nuke.scriptOpen(str(script))
    check_reads(name, 1001, 1012)


def test_a_server_killed_mid_render_loses_no_frame(servers: Any, tmp_path: Path, pump: Any) -> None:
    cluster = servers(3, crash_after=[None, 2, None])
    name = build_script(tmp_path)
    render.render_node(name)
    pump(finished(name), 60)
    assert job_state.load(nuke.toNode(name)).state == "completed"
    assert not cluster.servers[1].running
    check_reads(name, 1001, 1012)


def test_reopened_script_reattaches_without_rendering_twice(servers: Any, tmp_path: Path, pump: Any) -> None:
    cluster = servers(2, seconds_per_step=0.02, speeds=[1, 1])
    name = build_script(tmp_path)
    nuke.toNode(name)["workflow_file"].setValue(str(EXAMPLES / "img2img.json"))
    render.render_node(name)
    scheduler = get_session().farm.scheduler
    group_id = job_state.load(nuke.toNode(name)).group_id
    pump(lambda: 2 <= scheduler.snapshot(group_id).done < 12, 30)
    script = tmp_path / "shot.nk"
    nuke.scriptSave(str(script))
    shutdown_session()  # Nuke closed mid-render: prompts already on servers keep running
    accepted_before = sum(s.prompt_count for s in cluster.servers)
    nuke.scriptOpen(str(script))
    assert render.attach_node(name) == group_id
    pump(finished(name), 60)
    assert job_state.load(nuke.toNode(name)).state == "completed"
    check_reads(name, 1001, 1012)
    resent = sum(s.prompt_count for s in cluster.servers) - accepted_before
    assert accepted_before + resent == 12  # every frame rendered exactly once across both sessions
