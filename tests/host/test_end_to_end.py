"""End to end in the fake Nuke on simulated servers: Render button to Read nodes, headless, a server
killed mid-render, and a reopened script re-attaching to its journaled group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List

import nuke
import pytest

from nuke_comfyui.host import headless, job_state, menu_setup, render, session
from nuke_comfyui.host.session import get_session, shutdown_session

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FINAL = ("completed", "partial", "failed", "cancelled")


@pytest.fixture()
def servers(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Start simulated servers and configure them for the host the way an artist would.

    Upload transfer goes through NUKE_COMFYUI_SERVERS; shared transfer through a settings file
    in tmp, each server's dir_local = dir_remote = its simulated ComfyUI root (one machine).
    """

    def start(count: int = 3, transfer: str = "upload", **options: Any) -> Any:
        cluster = sim_cluster(count, **options)
        configs: List[Dict[str, Any]] = [
            {"name": f"gpu{i + 1}", "host": "127.0.0.1", "port": port} for i, port in enumerate(cluster.ports)
        ]
        if transfer == "shared":
            for config, server in zip(configs, cluster.servers):
                config.update(transfer="shared", dir_local=str(server.base_dir), dir_remote=str(server.base_dir))
            settings = tmp_path / "settings" / "servers.json"
            settings.parent.mkdir()
            settings.write_text(json.dumps({"servers": configs}))
            monkeypatch.setenv("NUKE_COMFYUI_CONFIG", str(settings))
        else:
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
    read = nuke.toNode(f"{name}_var01")
    assert read is not None and read.Class() == "Read"
    assert [read[k].value() for k in ("first", "last", "origfirst", "origlast")] == [first, last, first, last]
    assert read["on_error"].value() == "error"
    pattern = str(read["file"].value())
    assert "%04d" in pattern
    for frame in range(first, last + 1):
        assert Path(pattern % frame).is_file(), pattern % frame


def asked_preview_methods(cluster: Any) -> List[Any]:
    """What each prompt the servers ran asked for in extra_data.preview_method (None: nothing, the
    server's own setting), read back from their history."""
    import requests

    asked = []
    for url in cluster.urls:
        for entry in requests.get(f"{url}/history", timeout=5).json().values():
            asked.append(entry["prompt"][3].get("preview_method"))
    return asked


def test_render_button_gives_a_read_node_with_every_frame(
    servers: Any, tmp_path: Path, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = servers(3)
    for folder in ("cwd", "home"):
        (tmp_path / folder).mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    name = build_script(tmp_path)
    # A Results panel showing previews (ui/live_cards.py takes this watch while visible): prompts sent
    # while it looks keep the server's preview setting.
    release = session.get_session().farm.scheduler.live.interest.watch(previews=True)
    render.render_node(name)
    pump(finished(name), 30)
    release()
    pump(lambda: nuke.toNode(f"{name}_var01") is not None
         and nuke.toNode(f"{name}_var01")["on_error"].value() == "error")
    assert job_state.load(nuke.toNode(name)).state == "completed"
    check_reads(name, 1001, 1012)
    assert Path(str(nuke.toNode(f"{name}_var01")["file"].value())).parent.is_relative_to(tmp_path / "renders")
    assert sum(len(s.executed_ids) for s in cluster.servers) == 12
    assert sum(1 for s in cluster.servers if s.executed_ids) >= 2  # spread over the farm
    assert "12/12" in str(nuke.toNode(name)["status"].value())
    assert asked_preview_methods(cluster) == [None] * 12  # a Results panel showed previews
    # The plate is a loadable Read, so with upload transfer nothing is re-written, and nothing
    # lands outside the output folder, the data folder and the servers' own roots.
    assert not (tmp_path / "renders" / "_input").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "home", "plate", "renders", "sim0"]
    assert not any((tmp_path / "cwd").iterdir()) and not any((tmp_path / "home").iterdir())


def test_a_gui_session_with_no_panel_showing_previews_asks_the_servers_for_none(
    servers: Any, tmp_path: Path, pump: Any
) -> None:
    cluster = servers(2)
    name = build_script(tmp_path)
    render.render_node(name)
    pump(finished(name), 30)
    assert job_state.load(nuke.toNode(name)).state == "completed"
    assert asked_preview_methods(cluster) == ["none"] * 12  # nobody looks: the server makes none


def test_shared_storage_servers_from_a_settings_file_render_every_frame(
    servers: Any, tmp_path: Path, pump: Any
) -> None:
    cluster = servers(3, transfer="shared")
    name = build_script(tmp_path)
    render.render_node(name)
    pump(finished(name), 30)
    assert job_state.load(nuke.toNode(name)).state == "completed"
    check_reads(name, 1001, 1012)
    assert sum(1 for s in cluster.servers if s.executed_ids) >= 2
    # The plate is not on shared storage, so host writes it once into the first server's input/
    # folder (where that server reads it in place); the upload fallback folder stays unused.
    written = list((cluster.servers[0].base_dir / "input" / "nuke_comfyui").glob(f"{name}_*/*.png"))
    assert len(written) == 12
    assert job_state.load(nuke.toNode(name)).input_pattern.startswith(str(cluster.servers[0].base_dir))
    assert not (tmp_path / "renders" / "_input").exists()


def test_headless_entry_renders_the_saved_script(servers: Any, tmp_path: Path, capsys: Any) -> None:
    cluster = servers(3)
    name = build_script(tmp_path)
    script = tmp_path / "shot.nk"
    nuke.scriptSave(str(script))
    nuke._fake_reset(gui=False)
    nuke.pluginAddPath(str(Path(__file__).resolve().parents[2] / "gizmos"), addToSysPath=False)
    before = script.read_text()
    # Typed as documented; Nuke strips the trailing frame range from sys.argv, rawArgs keeps it.
    nuke._fake_run_as_terminal([headless.__file__, str(script), "--nodes", name, "--poll", "0.05",
                                "--frames", "1001-1012"])
    code = headless.main()
    assert code == 0, capsys.readouterr()
    assert script.read_text() == before                      # the artist's script is untouched
    results = tmp_path / "shot.comfyui_1001-1012.nk"
    assert f"results saved to {results}" in capsys.readouterr().out
    assert nuke._fake_queued() == 0  # nothing waited on an event loop nuke -t does not have
    assert asked_preview_methods(cluster) == ["none"] * 12  # nuke -t can never show a preview
    nuke.scriptOpen(str(results))
    assert job_state.load(nuke.toNode(name)).state == "completed"  # the saved script kept the outcome
    check_reads(name, 1001, 1012)


def test_a_server_killed_mid_render_loses_no_frame(servers: Any, tmp_path: Path, pump: Any) -> None:
    # gpu2 dies starting its second prompt; it is the fastest, so it surely pulls one (at equal
    # speeds a slow first frame under CI load once left it a single prompt, and it never died)
    cluster = servers(3, crash_after=[None, 2, None], speeds=[1, 3, 1])
    name = build_script(tmp_path)
    render.render_node(name)
    pump(finished(name), 60)  # a bound, not a goal: a loaded CI machine once needed over 20 s here
    assert job_state.load(nuke.toNode(name)).state == "completed"
    assert not cluster.servers[1].running
    assert cluster.servers[1].prompt_count >= 2  # it died holding a frame, not before getting work
    check_reads(name, 1001, 1012)
    snapshot = get_session().farm.scheduler.snapshot(job_state.load(nuke.toNode(name)).group_id)
    moved = [job for job in snapshot.jobs if job.attempts >= 2]
    assert moved and all(job.server != "gpu2" for job in moved)  # the lost frame finished elsewhere


def test_reopened_script_reattaches_without_rendering_twice(servers: Any, tmp_path: Path, pump: Any) -> None:
    cluster = servers(2, seconds_per_step=0.02, speeds=[1, 1])
    menu_setup.run_menu()  # a GUI session: menu.py registers the onScriptLoad re-attach hook
    name = build_script(tmp_path)
    nuke.toNode(name)["workflow_file"].setValue(str(EXAMPLES / "img2img.json"))
    render.render_node(name)
    scheduler = get_session().farm.scheduler
    group_id = job_state.load(nuke.toNode(name)).group_id
    pump(lambda: 2 <= scheduler.snapshot(group_id).done < 12, 30)
    script = tmp_path / "shot.nk"
    nuke.scriptSave(str(script))
    shutdown_session()  # Nuke closed mid-render: prompts already on servers keep running
    done_before = scheduler.snapshot(group_id).done
    accepted_before = cluster.prompt_count
    assert done_before < 12 and accepted_before < 12  # really mid-render: some frames not even sent yet
    saved = script.read_text()
    assert f"\n {job_state.KNOB} " in saved and group_id in saved  # the hidden knob travels in the .nk

    nuke.scriptOpen(str(script))  # runs onScriptLoad -> re-attach on a new session and farm
    assert get_session().farm.scheduler is not scheduler
    pump(finished(name), 60)  # a bound, not a goal: a loaded CI machine once needed over 20 s here
    assert job_state.load(nuke.toNode(name)).state == "completed"
    assert job_state.load(nuke.toNode(name)).group_id == group_id
    check_reads(name, 1001, 1012)
    # Every frame rendered exactly once across both sessions: prompts accepted before the close
    # were followed, not resent, and only the never-sent frames were submitted after reopening.
    assert cluster.prompt_count == 12
    executed = [pid for s in cluster.servers for pid in s.executed_ids]
    assert len(executed) == len(set(executed)) == 12
    assert render.attach_node(name) == group_id  # attaching a finished group again sends nothing
    assert cluster.prompt_count == 12


def test_render_button_inside_a_user_group_makes_reads_beside_it_saved_with_the_script(
    servers: Any, tmp_path: Path, pump: Any
) -> None:
    """The button runs with the gizmo as current group; the plate Write and the Reads must land in the
    Comfy node's own group (here a user Group), wired from the upstream node there, and be saved."""
    servers(2)
    plate = tmp_path / "plate"
    plate.mkdir()
    group = nuke.nodes.Group()
    with group:
        grade = nuke.nodes.Grade()            # processed input: must be written through a Write
        grade.setInput(0, nuke.nodes.Constant())
        comfy = nuke.nodes.ComfyRender()
        comfy.setInput(0, grade)
    comfy["workflow_file"].setValue(str(EXAMPLES / "invert.json"))
    comfy["frame_range_mode"].setValue("custom")
    comfy["custom_frames"].setValue("1-3")
    comfy["output_dir"].setValue(str(tmp_path / "renders"))
    full = comfy.fullName()
    assert full == f"{group.name()}.ComfyRender1"
    comfy["render_button"].execute()
    pump(finished(full), 30)
    pump(lambda: nuke.toNode(f"{full}_var01") is not None
         and nuke.toNode(f"{full}_var01")["on_error"].value() == "error")
    read = nuke.toNode(f"{full}_var01")
    assert read.parent() is group and [n.Class() for n in comfy.nodes()] == ["Input", "Output"]
    assert read["colorspace"].value() == "sRGB"
    assert (read["format"].value().width(), read["format"].value().height()) == (32, 18)
    assert "3/3" in str(comfy["status"].value())
    assert not nuke.allNodes("Write", group)   # the temporary plate Write is gone
    script = tmp_path / "shot.nk"
    nuke.scriptSave(str(script))
    shutdown_session()
    nuke.scriptOpen(str(script))
    assert nuke.toNode(f"{full}_var01") is not None and job_state.load(nuke.toNode(full)).state == "completed"


def test_each_output_node_gets_its_own_read_named_by_its_title(servers: Any, tmp_path: Path, pump: Any) -> None:
    servers(2)
    workflow = json.loads((EXAMPLES / "invert.json").read_text())
    workflow["3"]["_meta"]["title"] = "beauty"
    workflow["4"] = {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "nuke/plate"},
                     "_meta": {"title": "clean plate"}}
    path = tmp_path / "two_outputs.json"
    path.write_text(json.dumps(workflow))
    name = build_script(tmp_path, "1001-1003")
    nuke.toNode(name)["workflow_file"].setValue(str(path))
    render.render_node(name)
    pump(finished(name), 30)
    pump(lambda: all(nuke.toNode(f"{name}_{t}_var01") is not None for t in ("beauty", "clean_plate")))
    beauty, plate = nuke.toNode(f"{name}_beauty_var01"), nuke.toNode(f"{name}_clean_plate_var01")
    assert beauty["file"].value() != plate["file"].value()
    assert set(job_state.load(nuke.toNode(name)).reads) == {"0/3", "0/4"}


def test_headless_exits_1_with_the_reason_when_the_farm_goes_away_mid_run(
    servers: Any, tmp_path: Path, capsys: Any
) -> None:
    """The only server dies on its first prompt (`crash_after=0`): --server-wait bounds the wait.
    (A farm that is not there before the run fails before submitting: test_dead_farm.py.)"""
    servers(1, crash_after=0)
    name = build_script(tmp_path, "1001-1002")
    script = tmp_path / "shot.nk"
    nuke.scriptSave(str(script))
    code = headless.main([str(script), "--nodes", name, "--poll", "0.05", "--server-wait", "0.5", "--no-save"])
    err = capsys.readouterr().err
    assert code == 1
    assert "no ComfyUI server can take the work (gpu1: offline" in err and "--server-wait" in err


def test_headless_timeout_bounds_the_run(servers: Any, tmp_path: Path, capsys: Any) -> None:
    servers(1, seconds_per_step=0.2, speeds=[1])
    name = build_script(tmp_path, "1001-1012")
    nuke.toNode(name)["workflow_file"].setValue(str(EXAMPLES / "img2img.json"))
    script = tmp_path / "shot.nk"
    nuke.scriptSave(str(script))
    code = headless.main([str(script), "--nodes", name, "--poll", "0.05", "--timeout", "1", "--no-save"])
    out = capsys.readouterr()
    assert code in (1, 2) and "timed out after 1 s (--timeout)" in out.err
