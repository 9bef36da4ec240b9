"""`nuke -t headless.py`: every failure is exit 1 and one readable line; nothing waits on an event loop.

Fake-nuke behaviours relied on: scriptOpen raises RuntimeError for a file it cannot load (Foundry's
reference), nuke -t strips a trailing frame range from sys.argv (tests/host/test_fake_nuke.py), a
Write renders through nuke.execute and a Read of a missing file errors (test_fake_nuke_inputs.py),
and without a GUI executeInMainThread calls never run (the fake refuses to pump them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Tuple

import nuke
import pytest

from nuke_comfyui.host import headless, job_state, knobs, render, workflow_events
from nuke_comfyui.host.session import get_session

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
GIZMOS = str(ROOT / "gizmos")


def _headless(args: List[str], capsys: Any) -> Tuple[int, str, str]:
    nuke._fake_reset(gui=False)
    nuke._fake_run_as_terminal([headless.__file__, *args])
    code = headless.main()
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _script(tmp_path: Path, upstream_file: str = "", output: str = "") -> Path:
    comfy = nuke.createNode(knobs.NODE_CLASS, inpanel=False)
    comfy[knobs.WORKFLOW].setValue(str(ROOT / "examples/invert.json"))
    comfy["frame_range_mode"].setValue("custom")
    comfy["custom_frames"].setValue("1-2")
    comfy["output_dir"].setValue(output or str(tmp_path / "renders"))
    if upstream_file:
        read = nuke.nodes.Read(file=upstream_file, first=1, last=2)
        read["on_error"].setValue("error")
        comfy.setInput(0, read)
    else:
        comfy.setInput(0, nuke.nodes.Constant())
    script = tmp_path / "shot.nk"
    nuke.scriptSaveAs(str(script), 1)
    return script


@pytest.fixture()
def farm(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    cluster = sim_cluster(1)
    monkeypatch.setenv("NUKE_COMFYUI_SERVERS", json.dumps([{"name": "gpu1", "port": cluster.ports[0]}]))
    monkeypatch.setenv("NUKE_COMFYUI_POLL_INTERVAL", "0.2")
    return cluster


def test_bad_arguments_are_one_line_and_exit_1_not_argparse_2(capsys: Any) -> None:
    code, _, err = _headless(["--frames"], capsys)
    assert code == 1
    assert "the following arguments are required: script" in _one_line(err) or "expected one argument" in err


def test_a_script_that_is_not_there_or_does_not_load(tmp_path: Path, capsys: Any) -> None:
    code, _, err = _headless([str(tmp_path / "missing.nk")], capsys)
    assert code == 1 and "missing.nk does not exist" in _one_line(err)
    broken = tmp_path / "broken.nk"
    broken.write_text("Root {\n inputs 0\n}\nSomePluginNode {\n inputs 0\n}\n")
    code, _, err = _headless([str(broken)], capsys)
    assert code == 1 and _one_line(err).startswith(f"[nuke-comfyui] Nuke cannot open {broken}: SomePluginNode")


def test_the_gizmos_folder_is_added_when_init_py_did_not_run(tmp_path: Path, capsys: Any) -> None:
    script = _script(tmp_path)
    code, _, err = _headless([str(script), "--nodes", "NotThere"], capsys)
    assert GIZMOS in nuke.pluginPath()  # the ComfyRender node loaded
    assert code == 1 and "no node named 'NotThere'" in _one_line(err)


def test_a_failing_input_write_is_one_line(farm: Any, tmp_path: Path, capsys: Any) -> None:
    script = _script(tmp_path, upstream_file=str(tmp_path / "gone" / "plate.%04d.png"))
    code, _, err = _headless([str(script), "--no-save"], capsys)
    assert code == 1 and "Read error" in _one_line(err) and "plate.0001.png" in err


def test_a_disk_error_is_one_line(farm: Any, tmp_path: Path, capsys: Any) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    script = _script(tmp_path, upstream_file="", output=str(blocker / "renders"))
    code, _, err = _headless([str(script), "--no-save"], capsys)
    assert code == 1
    assert _one_line(err) == (f"[nuke-comfyui] output folder {blocker}/renders cannot be used: {blocker} is a file, "
                              "not a folder; choose a folder you can write to")


def test_results_that_cannot_be_saved_say_so(farm: Any, tmp_path: Path, capsys: Any) -> None:
    script = _script(tmp_path)
    code, _, err = _headless([str(script), "--save-as", str(tmp_path / "no" / "such" / "r.nk"), "--poll", "0.05"],
                               capsys)
    assert code == 1 and "could not be saved" in _one_line(err) and "--save-as" in err
    assert nuke._fake_queued() == 0


def test_headless_rendering_and_cancel_never_wait_on_the_event_loop(farm: Any, tmp_path: Path) -> None:
    nuke._fake_reset(gui=False)
    nuke.pluginAddPath(GIZMOS, addToSysPath=False)
    nuke.scriptOpen(str(_script(tmp_path)))
    name = knobs.NODE_CLASS + "1"
    render.render_node(name, watch=False)
    assert render.cancel_node(name) is None  # done here, synchronously: no event loop to report back
    assert job_state.load(nuke.toNode(name)).state in ("cancelled", "completed", "partial")
    assert nuke._fake_queued() == 0


def test_choosing_a_workflow_headless_waits_for_the_servers_instead_of_rebuilding_later(
        farm: Any, tmp_path: Path) -> None:
    nuke._fake_reset(gui=False)
    nuke.pluginAddPath(GIZMOS, addToSysPath=False)
    node = nuke.createNode(knobs.NODE_CLASS, inpanel=False)
    node[knobs.WORKFLOW].setValue(str(ROOT / "examples/img2img.json"))
    notes = workflow_events.choose_workflow(node)
    assert get_session().farm.pool.object_infos(), "the farm answered within the bound"
    assert not any("no server answered" in n for n in notes)
    assert isinstance(node["wf_3__sampler_name"], nuke.Enumeration_Knob)  # typed from the server
    assert nuke._fake_queued() == 0


def test_anything_unexpected_is_still_one_line(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script(tmp_path)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError("a bug of ours")

    monkeypatch.setattr(render, "comfy_node_names", broken)
    code, _, err = _headless([str(script)], capsys)
    assert code == 1
    assert _one_line(err) == ("[nuke-comfyui] unexpected KeyError: 'a bug of ours' "
                              "(set NUKE_COMFYUI_DEBUG=1 to see where)")
