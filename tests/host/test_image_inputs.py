"""Several image inputs on the Comfy node: arrows from the workflow's loaders, kept through save and
reopen, each staged per frame into its loader on the simulator, required/optional, mask polarity.

Fake-nuke behaviours relied on are tested in test_fake_nuke_inputs.py (Input nodes, arrow labels,
gizmo reopen, Invert); the simulator's LoadImage/LoadImageMask follow ComfyUI's nodes.py
(MASK = 1 - alpha), see tests/sim.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import nuke
import pytest
from PIL import Image

from nuke_comfyui.host import arrival, image_arrows, job_state, knobs, render
from nuke_comfyui.host.session import get_session

FINAL = ("completed", "partial", "failed", "cancelled")


def _loader(kind: str, title: str, image: str, **extra: Any) -> Dict[str, Any]:
    return {"class_type": kind, "inputs": {"image": image, **extra}, "_meta": {"title": title}}


def _save(source: List[Any], prefix: str) -> Dict[str, Any]:
    return {"class_type": "SaveImage", "inputs": {"images": source, "filename_prefix": prefix}}


def three_loaders(folder: Path, sidecar: Any = None) -> Path:
    """plate (LoadImage), mask (LoadImageMask on alpha), depth (LoadImage): each saved as its own output."""
    flow = {
        "10": _loader("LoadImage", "plate", "plate_default.png"),
        "11": _loader("LoadImageMask", "mask", "mask_default.png", channel="alpha"),
        "12": _loader("LoadImage", "depth", "depth_default.png"),
        "20": _save(["10", 0], "beauty"),
        "21": {"class_type": "MaskToImage", "inputs": {"mask": ["11", 0]}},
        "22": _save(["21", 0], "matte"),
        "23": _save(["12", 0], "depth"),
    }
    path = folder / "three.json"
    path.write_text(json.dumps(flow))
    if sidecar is not None:
        (folder / "three.nkc.json").write_text(json.dumps({"nuke_comfyui_sidecar": 1, "images": sidecar}))
    return path


def sequence(folder: Path, name: str, pixels: Dict[int, List[Tuple[int, int, int, int]]]) -> Any:
    """PNG files with known RGBA pixels per frame (one row), and a Read of them."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame, row in pixels.items():
        image = Image.new("RGBA", (len(row), 1))
        image.putdata(row)
        image.save(folder / f"{name}.{frame:04d}.png")
    first, last = min(pixels), max(pixels)
    return nuke.nodes.Read(file=str(folder / f"{name}.%04d.png"), first=first, last=last)


def comfy(workflow: Path, tmp_path: Path, frames: str = "1001-1002") -> Any:
    node = nuke.createNode(knobs.NODE_CLASS)
    node["workflow_file"].setValue(str(workflow))
    node["frame_range_mode"].setValue("custom")
    node["custom_frames"].setValue(frames)
    node["output_dir"].setValue(str(tmp_path / "renders"))
    return node


@pytest.fixture()
def farm(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    def start(count: int = 1) -> Any:
        cluster = sim_cluster(count)
        monkeypatch.setenv("NUKE_COMFYUI_SERVERS", json.dumps(
            [{"name": f"gpu{i}", "host": "127.0.0.1", "port": p} for i, p in enumerate(cluster.ports)]))
        monkeypatch.setenv("NUKE_COMFYUI_POLL_INTERVAL", "0.2")
        return cluster

    return start


def rendered(node: Any, pump: Any) -> Dict[Tuple[int, str], Tuple[Dict[str, Any], List[Any]]]:
    """Render; (frame, output node id) -> (the prompt the server ran, the output's pixels)."""
    group_id = render.render_node(node.name())
    pump(lambda: job_state.load(nuke.toNode(node.name())).state in FINAL, 30)
    snap = get_session().farm.scheduler.snapshot(group_id)
    assert snap.state.value == "completed", [j.error for j in snap.jobs if j.error]
    found = {}
    for job in snap.jobs:
        for output in job.outputs:
            with Image.open(output) as img:
                out_node = Path(output).name.split(".")[0].rsplit("_", 1)[1]
                rgb = img.convert("RGB")
                pixels = [rgb.getpixel((x, 0)) for x in range(rgb.width)]
                found[(job.frame, out_node)] = (json.loads(img.text["prompt"]), pixels)
    return found


def test_arrows_are_labelled_by_the_loaders_titles_and_follow_the_workflow(tmp_path: Path) -> None:
    node = comfy(three_loaders(tmp_path), tmp_path)
    assert image_arrows.sync_inputs(node) == []
    assert node.maxInputs() == 3 and nuke._fake_input_labels(node) == ["plate", "mask", "depth"]
    plate, matte = nuke.nodes.Constant(), nuke.nodes.Constant()
    node.setInput(0, plate)
    node.setInput(1, matte)
    changed = json.loads(Path(node["workflow_file"].value()).read_text())
    changed["10"]["_meta"]["title"] = "Nuke Input"  # the main loader: input 1 whatever its place
    changed = {k: changed[k] for k in ("11", "10", "20", "21", "22")}
    (tmp_path / "two.json").write_text(json.dumps(changed))
    node["workflow_file"].setValue(str(tmp_path / "two.json"))
    assert image_arrows.sync_inputs(node) == []
    assert nuke._fake_input_labels(node) == ["Nuke_Input", "mask"]
    assert node.input(0) is plate and node.input(1) is matte  # each connection stayed with its loader
    del changed["11"], changed["21"], changed["22"]
    (tmp_path / "one.json").write_text(json.dumps(changed))
    node["workflow_file"].setValue(str(tmp_path / "one.json"))
    notes = image_arrows.sync_inputs(node)
    assert node.maxInputs() == 1 and node.input(0) is plate
    assert len(notes) == 1 and matte.name() in notes[0] and "node 11" in notes[0]


def test_connections_survive_save_and_reopen(tmp_path: Path) -> None:
    node = comfy(three_loaders(tmp_path), tmp_path)
    image_arrows.sync_inputs(node)
    ups = [nuke.nodes.Constant() for _ in range(3)]
    for index, up in enumerate(ups):
        node.setInput(index, up)
    names = node.name(), [u.name() for u in ups]
    nuke.scriptSaveAs(str(tmp_path / "shot.nk"), overwrite=1)
    nuke.scriptOpen(str(tmp_path / "shot.nk"))
    again = nuke.toNode(names[0])
    assert [again.input(i).name() for i in range(3)] == names[1]  # the gizmo file's 8 inputs took them
    arrival.on_script_load()  # init.py's onScriptLoad hook: the arrows are fitted and named again
    assert again.maxInputs() == 3 and nuke._fake_input_labels(again) == ["plate", "mask", "depth"]
    assert [again.input(i).name() for i in range(3)] == names[1]


def test_each_connected_input_reaches_its_loader_per_frame(farm: Any, tmp_path: Path, pump: Any) -> None:
    farm(1)
    node = comfy(three_loaders(tmp_path), tmp_path)
    node.setInput(0, sequence(tmp_path / "plate", "plate", {1001: [(50, 0, 0, 255)], 1002: [(100, 0, 0, 255)]}))
    node.setInput(1, sequence(tmp_path / "matte", "matte", {1001: [(0, 0, 0, 255)], 1002: [(0, 0, 0, 0)]}))
    node.setInput(2, sequence(tmp_path / "depth", "depth", {1001: [(0, 0, 30, 255)], 1002: [(0, 0, 60, 255)]}))
    found = rendered(node, pump)
    for frame, plate_red, depth_blue, matte in ((1001, 50, 30, 255), (1002, 100, 60, 0)):
        prompt, beauty = found[(frame, "20")]
        names = [prompt[n]["inputs"]["image"] for n in ("10", "11", "12")]
        assert len(set(names)) == 3 and not any(n.endswith("_default.png") for n in names)
        assert beauty == [(plate_red, 0, 0)]
        assert found[(frame, "23")][1] == [(0, 0, depth_blue)]
        assert found[(frame, "22")][1] == [(matte, matte, matte)]  # the mask is Nuke's alpha


def test_a_required_input_left_unconnected_is_refused_naming_the_loader(farm: Any, tmp_path: Path) -> None:
    farm(1)
    node = comfy(three_loaders(tmp_path), tmp_path)
    node.setInput(0, nuke.nodes.Constant())
    node.setInput(2, nuke.nodes.Constant())
    with pytest.raises(knobs.NodeSetupError) as error:
        render.render_node(node.name())
    text = str(error.value)
    assert "'mask'" in text and "node 11" in text and "'mask_default.png'" in text
    assert "input 2" in text and '"required": false' in text


def test_an_optional_input_keeps_the_workflow_file(farm: Any, tmp_path: Path, pump: Any) -> None:
    cluster = farm(1)
    inputs = cluster.servers[0].base_dir / "input"
    inputs.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (1, 1), (0, 0, 77)).save(inputs / "depth_default.png")  # on the server: optional
    Image.new("RGBA", (1, 1), (0, 0, 0, 0)).save(inputs / "mask_default.png")
    sidecar = [{"node": "mask", "required": True}]  # the sidecar's word beats the file being there
    node = comfy(three_loaders(tmp_path, sidecar), tmp_path, frames="1001")
    node.setInput(0, sequence(tmp_path / "plate", "plate", {1001: [(9, 0, 0, 255)]}))
    with pytest.raises(knobs.NodeSetupError, match="'mask'"):
        render.render_node(node.name())
    node.setInput(1, sequence(tmp_path / "matte", "matte", {1001: [(0, 0, 0, 255)]}))
    found = rendered(node, pump)
    prompt, _ = found[(1001, "23")]
    assert prompt["12"]["inputs"]["image"] == "depth_default.png"
    assert found[(1001, "23")][1] == [(0, 0, 77)]


def test_mask_polarity_round_trip_through_the_simulator(farm: Any, tmp_path: Path, pump: Any) -> None:
    """Nuke alpha -> written PNG (alpha inverted) -> ComfyUI's MASK (1 - alpha) -> MaskToImage -> pixels."""
    farm(1)
    flow = {
        "11": _loader("LoadImageMask", "matte", "m.png", channel="alpha"),
        "13": _loader("LoadImage", "holdout", "h.png"),
        "21": {"class_type": "MaskToImage", "inputs": {"mask": ["11", 0]}},
        "22": _save(["21", 0], "matte"),
        "24": {"class_type": "MaskToImage", "inputs": {"mask": ["13", 1]}},  # LoadImage's MASK output
        "25": _save(["24", 0], "holdout"),
    }
    (tmp_path / "masks.json").write_text(json.dumps(flow))
    alphas = [0, 64, 128, 191, 255]
    row = [(10, 20, 30, a) for a in alphas]
    node = comfy(tmp_path / "masks.json", tmp_path, frames="1001")
    matte = sequence(tmp_path / "matte", "matte", {1001: row})
    node.setInput(0, matte)
    node.setInput(1, sequence(tmp_path / "holdout", "holdout", {1001: row}))
    found = rendered(node, pump)
    # What a real ComfyUI 0.8.0 saves for each written level (float32 1 - alpha, SaveImage truncating):
    real = json.loads((Path(__file__).parents[1] / "sim/data/comfyui-0.8.0-mask-ramp.json").read_text())
    for out, key in (("22", "LoadImageMask_alpha"), ("25", "LoadImage_MASK")):
        saved = [pixel[0] for pixel in found[(1001, out)][1]]
        assert saved == [real[key][255 - a] for a in alphas]
        assert all(a - 1 <= s <= a for s, a in zip(saved, alphas))  # the mask is Nuke's alpha (saving may drop a level)
    written = sorted((tmp_path / "renders" / "_input").rglob("*.1001.png"))
    assert len(written) == 2  # a mask input is always written, never the Read's own file
    with Image.open(written[0]) as png:
        assert [png.getpixel((x, 0))[3] for x in range(png.width)] == [255 - a for a in alphas]


def test_a_ui_format_workflow_gives_facts_only_with_object_info(tmp_path: Path) -> None:
    """ComfyUI's normal Save (UI format) is read through core's conversion with /object_info, as the
    scheduler reads it; without /object_info it gives no facts and the arrows stay as they are."""
    import shutil

    from nuke_comfyui.host import workflow_facts

    root = Path(__file__).resolve().parents[2]
    info = json.loads((root / "nuke_comfyui/sim/data/object_info.json").read_text())
    path = tmp_path / "inpaint.json"
    shutil.copy(root / "tests/core/data/ui_inpaint_saved.json", path)
    node = comfy(path, tmp_path)
    notes = image_arrows.sync_inputs(node)
    assert node.maxInputs() == 8 and len(notes) == 1 and "/object_info" in notes[0]
    assert workflow_facts.output_titles(str(path)) == {} and workflow_facts.image_slots_of(str(path)) is None
    assert image_arrows.sync_inputs(node, info) == []
    assert nuke._fake_input_labels(node) == ["plate", "holdout"]
    slots, _ = workflow_facts.image_slots_of(str(path), info) or ([], [])
    assert [(s.image.class_type, s.image.invert_alpha) for s in slots] == [("LoadImage", True), ("LoadImageMask", True)]
    assert "plate matte" in workflow_facts.output_titles(str(path), info).values()


def test_without_a_workflow_only_unconnected_trailing_arrows_go(tmp_path: Path) -> None:
    node = nuke.createNode(knobs.NODE_CLASS)
    node.setInput(3, nuke.nodes.Constant())
    image_arrows.sync_inputs(node)
    assert node.maxInputs() == 4 and node.input(3) is not None  # a connection is never dropped blindly
    node.setInput(3, None)
    image_arrows.sync_inputs(node)
    assert node.maxInputs() == 1
    node["workflow_file"].setValue(str(three_loaders(tmp_path)))
    image_arrows.sync_inputs(node)
    mask = nuke.nodes.Constant()
    node.setInput(1, mask)
    node["workflow_file"].setValue("")  # cleared: the synced connections stay too
    image_arrows.sync_inputs(node)
    assert node.maxInputs() == 2 and node.input(1) is mask


class _NoServers:
    """A pool with no server answering /object_info."""

    def object_infos(self) -> Dict[str, Any]:
        return {}

    def servers(self) -> List[Any]:
        return []


def test_loaders_past_the_last_arrow_keep_their_file_or_are_refused(tmp_path: Path) -> None:
    from nuke_comfyui.host.image_staging import fit_arrows, object_infos, stage_images

    flow = {str(i): _loader("LoadImage", f"l{i}", f"f{i}.png") for i in range(1, 10)}
    flow["20"] = _save(["1", 0], "out")
    (tmp_path / "nine.json").write_text(json.dumps(flow))
    (tmp_path / "nine.nkc.json").write_text(json.dumps(
        {"nuke_comfyui_sidecar": 1, "images": [{"node": f"l{i}", "required": False} for i in range(1, 9)]}))
    node = comfy(tmp_path / "nine.json", tmp_path)
    notes = image_arrows.sync_inputs(node)
    assert node.maxInputs() == 8 and nuke._fake_input_labels(node)[-1] == "l8"
    assert len(notes) == 1 and "'l9' (node 9)" in notes[0]
    span = knobs.FrameRange("1001", 1001, 1001)
    infos = object_infos(_NoServers())
    with pytest.raises(knobs.NodeSetupError, match="only 8 input arrows"):
        stage_images(node, fit_arrows(node, infos), infos, span, [1001], shared=[], upload=True,
                     output_dir=str(tmp_path / "o"))
