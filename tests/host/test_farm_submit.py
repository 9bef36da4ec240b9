"""The "Submit to farm" button and `headless.py --farm` in the fake Nuke.

`nuke.ask(prompt) -> bool` (Foundry's Nuke Python API: "Show a Yes/No dialog; returns True for
Yes") is in the fake: it answers only with a reply the test queued and refuses otherwise.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, List

import nuke
import pytest
import yaml

from nuke_comfyui.host import farm_submit, headless

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture()
def shared_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One shared-storage server in the configuration (never contacted: writing a bundle renders nothing)."""
    share = tmp_path / "share"
    (share / "input").mkdir(parents=True)  # a mounted ComfyUI folder has its input/ (checked before writing)
    servers = [{"name": "gpu1", "host": "127.0.0.1", "port": 9, "transfer": "shared",
                "dir_local": str(share), "dir_remote": "/mnt/comfy"}]
    monkeypatch.setenv("NUKE_COMFYUI_SERVERS", json.dumps(servers))
    return share


def _script(tmp_path: Path) -> str:
    constant = nuke.nodes.Constant()
    comfy = nuke.createNode("ComfyRender")
    comfy.setInput(0, constant)
    comfy["workflow_file"].setValue(str(EXAMPLES / "invert.json"))
    comfy["frame_range_mode"].setValue("custom")
    comfy["custom_frames"].setValue("1001-1004")
    comfy["output_dir"].setValue(str(tmp_path / "renders"))
    nuke.scriptSaveAs(str(tmp_path / "shots" / "sh010.nk"))
    return str(comfy.name())


def _values(folder: Path) -> dict:
    data = yaml.safe_load((folder / "parameter_values.yaml").read_text())
    return {v["name"]: v["value"] for v in data["parameterValues"]}


def _fake_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `deadline` on PATH that records its arguments (the real one talks to AWS)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "deadline_args.json"
    tool = bin_dir / "deadline"
    tool.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {log}\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return log


def test_button_writes_plate_to_shared_storage_and_bundle_next_to_script(
        shared_server: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shots").mkdir()
    name = _script(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))  # no `deadline` command
    nuke.toNode(name)["farm_button"].execute()
    [text] = nuke._fake_state().messages
    bundles = list((tmp_path / "shots" / "comfyui_farm").iterdir())
    assert len(bundles) == 1 and bundles[0].name.startswith(f"{name}_")
    assert str(bundles[0]) in text and f"deadline bundle submit {bundles[0]}" in text
    values = _values(bundles[0])
    pattern = values["InputPattern"]
    assert pattern.startswith(str(shared_server / "input" / "nuke_comfyui"))  # where the farm's servers read
    for frame in range(1001, 1005):
        assert Path(pattern.replace("####", f"{frame:04d}").replace("%04d", f"{frame:04d}")).is_file()
    assert values["Frames"] == "1001-1004" and values["OutputDir"] == str(tmp_path / "renders")


def test_button_offers_deadline_submit_and_runs_it_off_the_main_thread(
        shared_server: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pump: Any) -> None:
    (tmp_path / "shots").mkdir()
    name = _script(tmp_path)
    log = _fake_deadline(tmp_path, monkeypatch)
    nuke._fake_state().answers.append(True)  # the artist says Yes
    asked = nuke._fake_state().asked
    threads: List[Any] = []
    real = farm_submit.submit_in_background
    monkeypatch.setattr(farm_submit, "submit_in_background", lambda n, c: threads.append(real(n, c)))
    farm_submit.submit_button(name)
    assert len(asked) == 1 and "deadline bundle submit" in asked[0]
    threads[0].join(timeout=30)
    pump(lambda: bool(nuke._fake_state().messages), 10.0)
    assert nuke._fake_state().messages == [f"{name}: submitted to the farm."]
    [bundle] = list((tmp_path / "shots" / "comfyui_farm").iterdir())
    assert log.read_text().split() == ["bundle", "submit", str(bundle)]


def test_unsaved_script_is_told_to_save_first(shared_server: Path, tmp_path: Path) -> None:
    comfy = nuke.createNode("ComfyRender")
    comfy["workflow_file"].setValue(str(EXAMPLES / "txt2img_variations.json"))
    comfy["output_dir"].setValue(str(tmp_path / "renders"))
    comfy["farm_button"].execute()
    [text] = nuke._fake_state().messages
    assert "save the script first" in text


def test_headless_farm_option_writes_bundles(shared_server: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shots").mkdir()
    name = _script(tmp_path)
    monkeypatch.setattr(nuke, "GUI", False)  # `nuke -t`
    script = str(tmp_path / "shots" / "sh010.nk")
    assert headless.main([script, "--nodes", name, "--farm", "gpu"]) == 0
    out = capsys.readouterr().out
    assert "farm bundle" in out and "deadline bundle submit" in out
    [bundle] = list((tmp_path / "shots" / "comfyui_farm").iterdir())
    assert "ComfyPort" in _values(bundle)  # the gpu layout


def test_the_workflow_tab_values_and_server_choice_travel_with_the_bundle(
        shared_server: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The node's knobs (a TCL expression per frame) reach the tasks as input_values.json (render --values)
    and its 'only servers' as --servers; before, a farm task rendered the workflow file's values."""
    from nuke_comfyui.core.input_values_file import read_values_file
    from nuke_comfyui.host import workflow_tab

    (tmp_path / "shots").mkdir()
    name = _script(tmp_path)
    node = nuke.toNode(name)
    node["workflow_file"].setValue(str(EXAMPLES / "img2img.json"))
    workflow_tab.build(node)
    node["wf_6__text"].setValue("a barn at frame [frame]")
    node["wf_6__text__tcl"].setValue(True)  # TCL ticked: evaluated per frame
    node["wf_3__steps"].setValue(12)
    node["servers"].setValue("gpu1")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    farm_submit.write_node_bundle(name)
    [bundle] = list((tmp_path / "shots" / "comfyui_farm").iterdir())
    values = _values(bundle)
    assert values["InputValues"] == str(bundle / farm_submit.VALUES_FILE)
    static, per_frame = read_values_file(values["InputValues"])
    assert per_frame == {"6.text": {str(f): f"a barn at frame {f}" for f in range(1001, 1005)}}
    assert static is not None and static["3.steps"] == 12
    template = yaml.safe_load((bundle / "template.yaml").read_text())
    args = template["steps"][0]["script"]["actions"]["onRun"]["args"]
    assert args[args.index("--values") + 1] == "{{Param.InputValues}}"
    assert args[args.index("--servers") + 1] == "gpu1"
