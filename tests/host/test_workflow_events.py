"""Choosing a workflow on the node: knobChanged builds the tab, validation on every server, Render's checks.

The object_info is ComfyUI 0.8's, recorded (shared/comfyui-0.8-captures/00_object_info_subset.json);
a second "server" is the same answer with one sampler removed, so a value one server lacks is
real data, not a made-up spec. Fake-nuke behaviours relied on: addKnobChanged and
`_fake_user_edit` (tests/host/test_fake_nuke_callbacks.py), .nk save/reopen of user knobs.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, List

import nuke
import pytest
from offline_farm import OfflinePool, offline_session

from nuke_comfyui.host import knobs, workflow_events, workflow_tab

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = Path("/work/shared/comfyui-0.8-captures/00_object_info_subset.json")
if not CAPTURE.is_file():  # the recorded answer outside this machine: the simulator's copy of it
    CAPTURE = ROOT / "nuke_comfyui/sim/data/object_info.json"
RECORDED: Dict[str, Any] = json.loads(CAPTURE.read_text())


def _without_sampler(sampler: str) -> Dict[str, Any]:
    info = copy.deepcopy(RECORDED)
    choices = info["KSampler"]["input"]["required"]["sampler_name"][0]
    choices.remove(sampler)
    return info


@pytest.fixture()
def servers() -> OfflinePool:
    """gpu2 lacks one sampler; no server answers, so the pixel plan takes the 8-bit path."""
    session = offline_session({"gpu1": RECORDED, "gpu2": _without_sampler("dpmpp_2m")})
    workflow_events.register()
    return session.farm.pool


def _flow(folder: Path, name: str = "shot_v001.json", **changes: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = json.loads((ROOT / "examples/img2img.json").read_text())
    for key, value in changes.items():
        node_id, _, name_ = key.partition("__")
        if value is None:
            del data[node_id]["inputs"][name_]
        else:
            data[node_id]["inputs"][name_] = value
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def test_the_file_browser_builds_the_tab_and_validates_it(servers: OfflinePool, tmp_path: Path) -> None:
    node = nuke.createNode(knobs.NODE_CLASS)
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(_flow(tmp_path)))
    assert isinstance(node["wf_3__sampler_name"], nuke.Enumeration_Knob)
    assert "dpmpp_2m" in node["wf_3__sampler_name"].values()  # typed from the recorded /object_info
    assert workflow_tab.source(node)["path"] == str(tmp_path / "shot_v001.json")
    assert node[knobs.STATUS].value() == "workflow ok"
    nuke._fake_user_edit(node["wf_3__sampler_name"], "dpmpp_2m")  # the knob's value, not the file's
    assert node[knobs.STATUS].value() == "workflow ok"  # other knobs are ignored: nothing rebuilt or checked
    node["wf_reload"].execute()
    assert node[knobs.STATUS].value() == "workflow: KSampler > sampler_name: 'dpmpp_2m' is not on server gpu2"
    assert "gpu2" in node[workflow_tab.NOTES].value()


def test_changing_the_file_after_save_and_reopen_keeps_edits_and_names_dropped(servers: OfflinePool,
                                                                             tmp_path: Path) -> None:
    node = nuke.createNode(knobs.NODE_CLASS)
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(_flow(tmp_path)))
    node["wf_3__steps"].setValue(30)  # the artist's edits
    node["wf_3__cfg"].setValue(8.5)
    nuke.scriptSaveAs(str(tmp_path / "shot.nk"), 1)
    nuke.scriptClear()
    nuke.scriptOpen(str(tmp_path / "shot.nk"))
    node = nuke.allNodes(knobs.NODE_CLASS)[0]
    newer = _flow(tmp_path, "shot_v002.json", **{"3__cfg": None, "3__denoise": 0.35})
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(newer))
    assert node["wf_3__steps"].value() == 30  # edited, still an input: kept
    assert node["wf_3__denoise"].value() == 0.35  # untouched: the new file's value
    assert "wf_3__cfg" not in node.knobs()
    notes = node[workflow_tab.NOTES].value()
    assert "dropped your values of inputs no longer in the workflow: 3.cfg" in notes
    assert workflow_tab.source(node)["path"] == str(newer)


def test_the_studio_pick_list_from_the_settings_file_builds_through_knob_changed(servers: OfflinePool, tmp_path: Path,
                                                                                monkeypatch: Any) -> None:
    import os

    studio = tmp_path / "studio"
    _flow(studio, "a_plate.json")
    _flow(studio, "b_paint.json", **{"3__steps": 12})
    Path(os.environ["NUKE_COMFYUI_CONFIG"]).parent.mkdir(parents=True, exist_ok=True)
    Path(os.environ["NUKE_COMFYUI_CONFIG"]).write_text(json.dumps({"workflows_folder": str(studio)}))
    node = nuke.createNode(knobs.NODE_CLASS)
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(studio / "a_plate.json"))
    assert node[workflow_tab.PICK].values() == ["a_plate.json", "b_paint.json"]
    nuke._fake_user_edit(node[workflow_tab.PICK], "b_paint.json")
    assert node[knobs.WORKFLOW].value() == str(studio / "b_paint.json")
    assert node["wf_3__steps"].value() == 12 and node[knobs.STATUS].value() == "workflow ok"
    monkeypatch.setenv("NUKE_COMFYUI_WORKFLOWS", str(tmp_path / "elsewhere"))  # the variable wins
    node["wf_reload"].execute()
    assert workflow_tab.PICK not in node.knobs()


def test_the_callback_never_raises_and_reports_on_the_node(servers: OfflinePool, tmp_path: Path) -> None:
    node = nuke.createNode(knobs.NODE_CLASS)
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(tmp_path / "missing.json"))
    assert "missing.json" in node[knobs.STATUS].value() and workflow_tab.TAB not in node.knobs()
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(broken))
    assert node[knobs.STATUS].value().startswith("workflow: ")
    nuke._fake_user_edit(node[knobs.WORKFLOW], "")
    assert node[knobs.STATUS].value() == "workflow: none chosen; pick a workflow file"


def test_render_refuses_a_tab_built_from_another_file(servers: OfflinePool, tmp_path: Path) -> None:
    from nuke_comfyui.host import render
    from nuke_comfyui.host.session import get_session

    node = nuke.createNode(knobs.NODE_CLASS)
    node["output_dir"].setValue(str(tmp_path / "out"))
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(_flow(tmp_path)))
    other = _flow(tmp_path, "other.json")
    node[knobs.WORKFLOW].setValue(str(other))  # a script changed it: no knobChanged
    with pytest.raises(knobs.NodeSetupError, match=r"built from .*shot_v001\.json.*now .*other\.json.*Reload"):
        render.node_request(node, get_session())
    assert not (tmp_path / "out").exists()  # refused before any input frame was written
    workflow_events.choose_workflow(node)  # the fix the message names
    assert render.node_request(node, get_session()).servers is None


def test_render_keeps_combo_values_to_servers_that_have_them(servers: OfflinePool, tmp_path: Path) -> None:
    from nuke_comfyui.host import render
    from nuke_comfyui.host.session import get_session

    node = nuke.createNode(knobs.NODE_CLASS)
    node["output_dir"].setValue(str(tmp_path / "out"))
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(_flow(tmp_path)))
    node["wf_3__sampler_name"].setValue("dpmpp_2m")
    request = render.node_request(node, get_session())
    assert request.servers == ["gpu1"]
    assert "gpu2 lacks KSampler > sampler_name: 'dpmpp_2m'" in node[knobs.STATUS].value()
    servers.infos = {"gpu2": servers.infos["gpu2"]}
    with pytest.raises(knobs.NodeSetupError, match=r"ComfyRender1: no server has every value.*server gpu2 lacks "
                                                   r"KSampler > sampler_name: 'dpmpp_2m'"):
        render.node_request(node, get_session())
    node[knobs.SERVERS].setValue("gpu1")  # only a server whose /object_info is not known: not judged
    assert render.node_request(node, get_session()).servers == ["gpu1"]


def test_menu_py_registers_the_hook_once_for_comfy_nodes_only() -> None:
    from nuke_comfyui.host import menu_setup

    menu_setup.run_menu()
    menu_setup.run_menu()  # menu.py run again (a reloaded plugin) keeps one entry
    table = nuke._fake_state().knob_changed
    assert [entry[0] for entry in table["ComfyRender"]] == [workflow_events.knob_changed]
    assert "*" not in table


def test_a_nuke_that_also_reports_programmatic_changes_builds_once(servers: OfflinePool, tmp_path: Path,
                                                                   monkeypatch: Any) -> None:
    """Nuke 17's reference: knobChanged runs for programmatic changes too. Play that with the fake's
    own callback runner on every String/File knob setValue: picking still builds the tab once."""
    from nuke_comfyui.host import workflow_tab as tab

    real_set = nuke.String_Knob.setValue

    def set_and_report(self: Any, val: Any) -> bool:
        done = real_set(self, val)
        if self._node is not None:
            nuke._callbacks.run_knob_changed(self._node, self)
        return done

    builds: List[str] = []
    real_build = tab.build
    monkeypatch.setattr(tab, "build", lambda node, *a, **k: builds.append(node.name()) or real_build(node, *a, **k))
    monkeypatch.setenv("NUKE_COMFYUI_WORKFLOWS", str(tmp_path / "studio"))
    _flow(tmp_path / "studio", "a.json")
    _flow(tmp_path / "studio", "b.json")
    node = nuke.createNode(knobs.NODE_CLASS)
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(tmp_path / "studio" / "a.json"))
    monkeypatch.setattr(nuke.String_Knob, "setValue", set_and_report)
    builds.clear()
    nuke._fake_user_edit(node[workflow_tab.PICK], "b.json")
    assert builds == [node.name()] and node[knobs.STATUS].value() == "workflow ok"


def test_choosing_a_workflow_fits_the_input_arrows_and_a_new_node_shows_one(servers: OfflinePool,
                                                                           tmp_path: Path) -> None:
    """A new node in the GUI opens its panel (showPanel): the gizmo's eight arrows are fitted to one;
    choosing a workflow with two loaders labels two arrows after their titles."""
    node = nuke.createNode(knobs.NODE_CLASS)
    assert node.inputs() == 0 and node.maxInputs() == 1
    data = json.loads((ROOT / "examples/img2img.json").read_text())
    loader = next(k for k, v in data.items() if v["class_type"] == "LoadImage")
    data["90"] = {"class_type": "LoadImageMask", "inputs": {"image": "matte.png", "channel": "alpha"},
                  "_meta": {"title": "matte"}}
    path = tmp_path / "two_loaders.json"
    path.write_text(json.dumps(data))
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(path))
    assert node.maxInputs() == 2
    labels = nuke._fake_input_labels(node)
    assert labels[1] == "matte"  # node names cannot hold spaces: the title is made a valid name
    assert labels[0] == data[loader]["_meta"]["title"].replace(" ", "_")


class _Server:
    enabled = True


class _LatePool(OfflinePool):
    """A fresh session: the servers' first /object_info answer arrives after the artist chose."""

    def servers(self) -> List[Any]:
        return [_Server()]


@pytest.fixture()
def late_servers() -> _LatePool:
    """A session whose servers have not answered /object_info yet (set `.infos` to answer)."""
    session = offline_session({})
    session.farm.pool = _LatePool({})
    workflow_events.register()
    return session.farm.pool


def _chosen_before_the_servers_answered(tmp_path: Path) -> Any:
    node = nuke.createNode(knobs.NODE_CLASS)
    nuke._fake_user_edit(node[knobs.WORKFLOW], str(_flow(tmp_path)))
    return node


def test_a_tab_typed_by_guess_is_rebuilt_when_the_servers_answer(late_servers: _LatePool, tmp_path: Path,
                                                                 pump: Any) -> None:
    pool = late_servers
    node = _chosen_before_the_servers_answered(tmp_path)
    assert not isinstance(node["wf_3__sampler_name"], nuke.Enumeration_Knob)  # guessed: a text field
    assert workflow_tab.GUESSED_NOTE in node[workflow_tab.NOTES].value()
    node["wf_3__steps"].setValue(31)  # the artist's edit meanwhile survives the rebuild
    pool.infos = {"gpu1": RECORDED}
    pump(lambda: isinstance(node["wf_3__sampler_name"], nuke.Enumeration_Knob), 10.0)
    assert node["wf_3__steps"].value() == 31
    assert workflow_tab.GUESSED_NOTE not in node[workflow_tab.NOTES].value()
    assert node[knobs.STATUS].value() == "workflow ok"


def test_a_late_answer_does_not_rebuild_a_node_that_moved_on(late_servers: _LatePool, tmp_path: Path,
                                                             pump: Any) -> None:
    from nuke_comfyui.host import tab_refresh

    pool = late_servers
    node = _chosen_before_the_servers_answered(tmp_path)
    node[knobs.WORKFLOW].setValue(str(_flow(tmp_path, "other.json")))  # a script changed it meanwhile
    pool.infos = {"gpu1": RECORDED}
    pump(lambda: not tab_refresh._Waiting.nodes, 10.0)
    for _ in range(5):
        nuke._fake_pump(timeout=0.05)
    assert not isinstance(node["wf_3__sampler_name"], nuke.Enumeration_Knob)  # left for Reload / Render's check
