"""The "Submit to farm" button and `headless.py --farm` in the fake Nuke.

The button's Qt dialog is tested on its own (tests/ui/test_farm_dialog.py, both bindings); here
`farm_submit.ask_choices` is replaced by the artist's answer, and what the host does with it
(plate, bundle, OCIO config from the root's Project Settings, submit) is checked.
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

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.farm_bundle.choices import FarmChoices
from nuke_comfyui.farm_bundle.scheduling import Scheduling
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


def _answer(monkeypatch: pytest.MonkeyPatch, choices: Any) -> List[Any]:
    """The artist's answer to the dialog (None: Cancel); the calls are recorded."""
    calls: List[Any] = []

    def ask(name: str, defaults: FarmChoices, *, deadline_found: bool) -> Any:
        calls.append((name, defaults, deadline_found))
        return choices if choices is None else FarmChoices(**{**vars(choices), "bundle_dir": choices.bundle_dir
                                                               or defaults.bundle_dir})

    monkeypatch.setattr(farm_submit, "ask_choices", ask)
    return calls


def test_button_writes_plate_to_shared_storage_and_bundle_next_to_script(
        shared_server: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shots").mkdir()
    name = _script(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))  # no `deadline` command
    calls = _answer(monkeypatch, FarmChoices())
    nuke.toNode(name)["farm_button"].execute()
    assert calls[0][2] is False  # the dialog is told Submit cannot work here
    [text] = nuke._fake_state().messages
    bundles = list((tmp_path / "shots" / "comfyui_farm").iterdir())
    assert len(bundles) == 1 and bundles[0].name.startswith(f"{name}_")
    assert bundles[0].name == f"{name}_{_values(bundles[0])['GroupId'][:8]}"  # the folder names the group
    assert str(bundles[0]) in text and f"deadline bundle submit {bundles[0]}" in text
    values = _values(bundles[0])
    pattern = values["InputPattern"]
    assert pattern.startswith(str(shared_server / "input" / "nuke_comfyui"))  # where the farm's servers read
    for frame in range(1001, 1005):
        assert Path(pattern.replace("####", f"{frame:04d}").replace("%04d", f"{frame:04d}")).is_file()
    assert values["Frames"] == "1001-1004" and values["OutputDir"] == str(tmp_path / "renders")
    assets = yaml.safe_load((bundles[0] / "asset_references.yaml").read_text())["assetReferences"]
    assert not any("plate" in f or "nuke_comfyui" in f for f in assets["inputs"]["filenames"])  # shared: not attached
    assert "on shared storage, not attached" in text


def test_cancelling_the_dialog_writes_nothing(shared_server: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shots").mkdir()
    name = _script(tmp_path)
    _answer(monkeypatch, None)
    farm_submit.submit_button(name)
    assert not (tmp_path / "shots" / "comfyui_farm").exists() and not nuke._fake_state().messages
    assert not any((shared_server / "input").iterdir())  # no plate written either


def test_button_offers_deadline_submit_and_runs_it_off_the_main_thread(
        shared_server: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pump: Any) -> None:
    (tmp_path / "shots").mkdir()
    name = _script(tmp_path)
    log = _fake_deadline(tmp_path, monkeypatch)
    calls = _answer(monkeypatch, FarmChoices(submit=True, scheduling=Scheduling(priority=75, suspended=True)))
    threads: List[Any] = []
    real = farm_submit.submit_in_background
    monkeypatch.setattr(farm_submit, "submit_in_background", lambda n, c: threads.append(real(n, c)))
    farm_submit.submit_button(name)
    assert calls[0][2] is True
    threads[0].join(timeout=30)
    pump(lambda: bool(nuke._fake_state().messages), 10.0)
    assert nuke._fake_state().messages == [f"{name}: submitted to the farm."]
    [bundle] = list((tmp_path / "shots" / "comfyui_farm").iterdir())
    assert log.read_text().split() == ["bundle", "submit", str(bundle)]
    farm = {v["name"]: v["value"] for v in yaml.safe_load((bundle / "parameter_values.yaml").read_text())
            ["parameterValues"] if v["name"].startswith("deadline:")}
    assert farm["deadline:priority"] == 75 and farm["deadline:targetTaskRunStatus"] == "SUSPENDED"


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
    assert headless.main([script, "--nodes", name, "--farm", "gpu", "--priority", "30", "--max-retries", "1",
                          "--max-failed-tasks", "4", "--suspended", "--frames-per-task", "2",
                          "--bundle-dir", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "farm bundle" in out and "deadline bundle submit" in out and "priority 30" in out
    values = _values(tmp_path / "b")
    assert "ComfyPort" in values and values["ChunkSize"] == 2  # the gpu layout, 2 frames per task
    assert (values["deadline:priority"], values["deadline:maxRetriesPerTask"], values["deadline:maxFailedTasksCount"],
            values["deadline:targetTaskRunStatus"]) == (30, 1, 4, "SUSPENDED")
    assert headless.main([script, "--nodes", name, "--farm", "thin", "--priority", "300"]) == 1
    assert "priority 300 must be between 0 and 100" in capsys.readouterr().err


def test_the_scripts_ocio_config_travels_with_the_bundle(shared_server: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Project Settings > Color: OCIO with a custom config; $OCIO, when set, wins (Nuke's order)."""
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "luts").mkdir()
    config = tmp_path / "shots" / "show.ocio"
    config.write_text("ocio_profile_version: 2\nsearch_path: luts\nroles: {default: lin, scene_linear: lin}\n"
                      "colorspaces:\n  - !<ColorSpace> {name: lin}\n")  # the fake loads it: a real, tiny config
    name = _script(tmp_path)
    monkeypatch.delenv("OCIO", raising=False)
    root = nuke.root()
    root["colorManagement"].setValue("OCIO")
    root["OCIO_config"].setValue("custom")
    root["customOCIOConfigPath"].setValue(str(config))
    written = farm_submit.write_node_bundle(name, choices=FarmChoices(bundle_dir=str(tmp_path / "b")))
    assert _values(written.folder)["OcioConfig"] == str(config)
    template = yaml.safe_load(written.template.read_text())
    assert template["jobEnvironments"][0]["variables"]["OCIO"] == "{{Param.OcioConfig}}"
    assets = yaml.safe_load(written.assets.read_text())["assetReferences"]
    assert str(config) in assets["inputs"]["filenames"] and assets["inputs"]["directories"] == [
        str(tmp_path / "shots" / "luts")]
    monkeypatch.setenv("OCIO", "ocio://studio-config-latest")  # a built-in config: its name travels, no file
    written = farm_submit.write_node_bundle(name, choices=FarmChoices(bundle_dir=str(tmp_path / "c")))
    template = yaml.safe_load(written.template.read_text())
    assert template["jobEnvironments"][0]["variables"]["OCIO"] == "ocio://studio-config-latest"
    assert "OcioConfig" not in _values(written.folder)
    monkeypatch.delenv("OCIO")
    root["customOCIOConfigPath"].setValue(str(tmp_path / "missing.ocio"))
    with pytest.raises(NukeComfyError, match=r"missing\.ocio is not a file"):
        farm_submit.write_node_bundle(name, choices=FarmChoices(bundle_dir=str(tmp_path / "d")))
    assert not (tmp_path / "d").exists()
    root["colorManagement"].setValue("Nuke")  # Nuke's own colour management: no config to carry
    written = farm_submit.write_node_bundle(name, choices=FarmChoices(bundle_dir=str(tmp_path / "e")))
    assert "OcioConfig" not in _values(written.folder)


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
