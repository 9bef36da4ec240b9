"""Workflow inputs on the simulator: per-frame values reach the prompts, seeds, UI files, mask polarity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict

import pytest
from PIL import Image

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.render_request import RenderRequest, RequestError
from nuke_comfyui.core.scheduler import GroupState

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests/core/data"


def _farm(cluster: Any, tmp_path: Path) -> Farm:
    servers = [ServerConfig(name=f"sim{i}", url=url) for i, url in enumerate(cluster.urls)]
    return Farm.from_config(ClusterConfig(servers=servers, poll_interval=0.2), journal_path=tmp_path / "j.sqlite3")


def _prompt_of(png: str) -> Dict[str, Any]:
    """The prompt the simulator ran, as its SaveImage embeds it (like ComfyUI's PNG metadata)."""
    with Image.open(png) as img:
        return dict(json.loads(img.text["prompt"]))


def _plates(folder: Path, frames: range, alpha: int = 255) -> str:
    folder.mkdir(parents=True)
    for frame in frames:
        Image.new("RGBA", (16, 16), (200, 40, 40, alpha)).save(folder / f"plate.{frame:04d}.png")
    return str(folder / "plate.####.png")


def test_per_frame_values_reach_the_prompts_and_seed_is_kept(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(2)
    pattern = _plates(tmp_path / "plates", range(1001, 1004))
    request = RenderRequest(workflow_path=str(ROOT / "examples/img2img.json"), output_dir=str(tmp_path / "out"),
                            input_pattern=pattern, frames="1001-1003", values={"6.text": "a red barn"},
                            frame_values={"3.denoise": {"1001": 0.2, "1003": 0.9}})
    with _farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit(request)
        snap = farm.scheduler.wait(gid, timeout=60)
        journaled = farm.journal.group(gid).request
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    workflow = json.loads((ROOT / "examples/img2img.json").read_text())
    sent = {j.frame: _prompt_of(j.outputs[0]) for j in snap.jobs}
    assert {f: p["3"]["inputs"]["denoise"] for f, p in sent.items()} == {
        1001: 0.2, 1002: workflow["3"]["inputs"]["denoise"], 1003: 0.9}
    assert {p["6"]["inputs"]["text"] for p in sent.values()} == {"a red barn"}
    assert {p["3"]["inputs"]["seed"] for p in sent.values()} == {workflow["3"]["inputs"]["seed"]}
    assert RenderRequest.from_json(journaled) == request  # a resume or retry replans the same values


def test_variations_of_a_seedless_workflow_are_refused(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(1)
    with _farm(cluster, tmp_path) as farm, pytest.raises(RequestError, match=r"no seed input.*identical copies"):
        farm.scheduler.submit(RenderRequest(workflow_path=str(ROOT / "examples/invert.json"),
                                            output_dir=str(tmp_path / "o"), variations=3))


def test_mask_polarity_round_trip_from_a_saved_ui_workflow(sim_cluster: Any, tmp_path: Path) -> None:
    """Files written with inverted alpha (as the node writes mask inputs) reach ComfyUI as mask = Nuke alpha."""
    cluster = sim_cluster(1)
    flow = tmp_path / "inpaint.json"
    shutil.copy(DATA / "ui_inpaint_saved.json", flow)
    nuke_alpha = 0.25
    written = round((1 - nuke_alpha) * 255)
    plate = _plates(tmp_path / "plate", range(1, 2), alpha=written)
    matte = _plates(tmp_path / "matte", range(1, 2), alpha=written)
    request = RenderRequest(workflow_path=str(flow), output_dir=str(tmp_path / "out"), frames="1",
                            images={"1": plate, "2": matte})
    with _farm(cluster, tmp_path) as farm:
        assert _wait_for_object_info(farm), "the simulator answered no /object_info"
        gid = farm.scheduler.submit(request)
        snap = farm.scheduler.wait(gid, timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    values = []
    for path in snap.jobs[0].outputs:
        with Image.open(path) as img:
            values.append(img.convert("RGB").getpixel((0, 0)))
    # masks: 1 - (1 - 0.25) = 0.25, i.e. level 64; a real ComfyUI 0.8.0 saves that mask as 63 (float32
    # 1 - 191/255, SaveImage truncating: tests/sim/data/comfyui-0.8.0-mask-ramp.json), and so does the simulator
    real = json.loads((ROOT / "tests/sim/data/comfyui-0.8.0-mask-ramp.json").read_text())
    level = real["LoadImage_MASK"][written]
    assert level == 63 and real["LoadImageMask_alpha"][written] == level
    assert sorted(values) == [(level,) * 3, (level,) * 3, (200, 40, 40)]


def _wait_for_object_info(farm: Farm, wait: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not farm.pool.object_infos():
        time.sleep(0.05)
    return bool(farm.pool.object_infos())


def test_cli_inputs_json_and_render_set_on_a_saved_file(sim_cluster: Any, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cluster = sim_cluster(1)
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": "sim0", "url": cluster.urls[0]}]}))
    saved = tmp_path / "txt.json"
    data = json.loads((DATA / "ui_img2img_saved.json").read_text())
    saved.write_text(json.dumps(data))
    assert main(["inputs", str(saved), "--config", str(config), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert set(rows[0]) == {"node", "title", "input", "type", "value", "options"}
    steps = next(r for r in rows if r["node"] == "3" and r["input"] == "steps")
    assert (steps["title"], steps["type"], steps["value"]) == ("KSampler", "INT", 28)
    ckpt = next(r for r in rows if r["input"] == "ckpt_name")
    assert ckpt["type"] == "COMBO" and ckpt["options"] == ["sim-model.safetensors"]
    assert {"node": "10", "title": "plate", "input": "image", "type": "IMAGE", "value": "example.png",
            "options": []} in rows
    plate = _plates(tmp_path / "p", range(1, 2))
    code = main(["render", str(saved), "--config", str(config), "--output", str(tmp_path / "out"),
                 "--journal", str(tmp_path / "j.sqlite3"), "--frames", "1", "--image", f"plate={plate}",
                 "--set", "KSampler.denoise=0.3", "--set", "Positive.text=a lighthouse", "--json"])
    assert code == 0, capsys.readouterr()
    out = sorted((tmp_path / "out").rglob("*.png"))
    sent = _prompt_of(str(out[0]))
    assert sent["3"]["inputs"]["denoise"] == 0.3 and sent["6"]["inputs"]["text"] == "a lighthouse"
    assert sent["3"]["inputs"]["steps"] == 28  # the primitive's value
