"""The gizmo really has the knobs host reads, and those knobs become the right RenderRequest."""

from __future__ import annotations

import nuke
import pytest

from nuke_comfyui.host import knobs


def test_gizmo_defines_every_knob_host_reads():
    node = nuke.createNode(knobs.NODE_CLASS)
    present = node.knobs()
    buttons = ("render_button", "cancel_button", "retry_button")
    for name in (*knobs.READ_KNOBS, knobs.STATUS, "job_state", "image_inputs", *buttons):
        assert name in present, f"{name} missing from gizmos/ComfyRender.gizmo"
    assert not node["job_state"].visible() and not node["image_inputs"].visible()
    assert node["seed_strategy"].values() == ["random", "sequential", "fibonacci", "golden"]
    assert node["server_strategy"].values() == ["fastest", "least-loaded", "round-robin", "priority"]
    assert node["transfer"].values() == ["auto", "shared", "upload"]
    assert node["frame_range_mode"].values() == ["input range", "global range", "custom"]
    assert node["variations"].value() == 1
    assert node.maxInputs() == 8  # one Input node per possible image input (host/image_arrows)
    assert {"Input", "Output"} <= {child.Class() for child in node.nodes()}


def test_buttons_call_existing_host_callbacks(monkeypatch):
    from nuke_comfyui.host import callbacks

    calls = []
    for name in ("render_this_node", "cancel_this_node", "retry_this_node"):
        monkeypatch.setattr(callbacks, name, lambda name=name: calls.append((name, nuke.thisNode().name())))
    node = nuke.createNode(knobs.NODE_CLASS)
    for button in ("render_button", "cancel_button", "retry_button"):
        node[button].execute()
    assert calls == [(n, node.name()) for n in ("render_this_node", "cancel_this_node", "retry_this_node")]


def _comfy(tmp_path, **values):
    node = nuke.createNode(knobs.NODE_CLASS)
    node["workflow_file"].setValue(str(tmp_path / "flux_img2img.json"))
    node["output_dir"].setValue(str(tmp_path / "renders"))
    for key, value in values.items():
        node[key].setValue(value)
    return node


def test_knobs_become_a_render_request(tmp_path):
    node = _comfy(tmp_path, variations=4, seed_strategy="golden", base_seed=77, server_strategy="priority",
                  servers="gpu1, gpu3", transfer="upload")
    span = knobs.frame_range(node)
    request = knobs.read_request(node, input_pattern="/in/plate.%04d.png", frames=span)
    assert request.workflow_path == str(tmp_path / "flux_img2img.json")
    assert request.output_dir == str(tmp_path / "renders")
    assert request.input_pattern == "/in/plate.%04d.png"
    assert request.frames == "1-100"   # no input connected: the script's global range
    assert request.variations == 4
    assert request.seed_strategy == "golden"
    assert request.base_seed == 77
    assert request.strategy == "priority"
    assert request.servers == ["gpu1", "gpu3"]
    assert request.transfer == "upload"
    assert "flux_img2img" in request.label


def test_auto_transfer_and_empty_servers_mean_no_override(tmp_path):
    request = knobs.read_request(_comfy(tmp_path), input_pattern=None, frames=None)
    assert request.transfer is None
    assert request.servers is None
    assert request.frames is None


def test_frame_range_modes(tmp_path):
    read = nuke.nodes.Read(file=str(tmp_path / "p.%04d.png"), first=1001, last=1012)
    node = _comfy(tmp_path)
    node.setInput(0, read)
    assert knobs.frame_range(node).text == "1001-1012"
    node["frame_range_mode"].setValue("global range")
    nuke.root()["first_frame"].setValue(5)
    nuke.root()["last_frame"].setValue(9)
    assert (knobs.frame_range(node).first, knobs.frame_range(node).last) == (5, 9)
    node["frame_range_mode"].setValue("custom")
    node["custom_frames"].setValue("1001-1005x2,1010")
    span = knobs.frame_range(node)
    assert (span.text, span.first, span.last) == ("1001-1005x2,1010", 1001, 1010)
    assert knobs.frame_range(node, override="20-30").text == "20-30"


def test_setup_errors_name_the_fix(tmp_path):
    node = nuke.createNode(knobs.NODE_CLASS)
    with pytest.raises(knobs.NodeSetupError, match="workflow"):
        knobs.read_request(node, input_pattern=None, frames=None)
    with pytest.raises(knobs.NodeSetupError, match="save the script"):
        knobs.output_dir(node)
    with pytest.raises(knobs.NodeSetupError, match="no node named"):
        knobs.comfy_node("Nope1")
