"""Official templates and a subgraph workflow, saved by ComfyUI's frontend, rendered on the simulator.

The three templates whose every class the simulator has (SDXL text-to-image, two of them with
legacy PrimitiveNodes) render through the CLI exactly as an artist would: `render TEMPLATE --set`
with the checkpoint replaced by the one the simulator offers. The prompt each server ran (the
simulator embeds it in the PNG, as ComfyUI does) shows the converted values arrived; no private
mark of the conversion reached the server.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest
from PIL import Image

from nuke_comfyui.cli.main import main
from nuke_comfyui.sim.catalog import SIM_MODEL
from tests.core.ui_convert import corpus
from tests.core.ui_convert.test_subgraphs_and_helpers import two_instances

pytestmark = pytest.mark.integration


def _prompt_of(png: Path) -> Dict[str, Any]:
    with Image.open(png) as img:
        return dict(json.loads(img.text["prompt"]))


def _render(cluster: Any, tmp_path: Path, workflow: Path, *extra: str) -> List[Path]:
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": "sim0", "url": cluster.urls[0]}]}))
    out = tmp_path / "out"
    code = main(["render", str(workflow), "--config", str(config), "--output", str(out),
                 "--journal", str(tmp_path / "j.sqlite3"), "--json", *extra])
    assert code == 0
    return sorted(out.rglob("*.png"))


@pytest.mark.parametrize(("name", "loaders", "checks"), [
    ("image_sdxl_simple.json", ["15"], {"12": {"steps": 25, "cfg": 7, "sampler_name": "dpmpp_2m",
                                               "scheduler": "karras"}}),
    ("sdxl_simple_example.json", ["4", "12"], {"10": {"steps": 25, "end_at_step": 20, "add_noise": "enable"},
                                               "11": {"steps": 25, "start_at_step": 20, "end_at_step": 10000}}),
    ("sdxl_refiner_prompt_example.json", ["4", "12"], {}),
])
def test_official_template_renders_on_the_simulator(sim_cluster: Any, tmp_path: Path, name: str,
                                                    loaders: List[str], checks: Dict[str, Dict[str, Any]]) -> None:
    workflow = tmp_path / name
    shutil.copy(corpus.TEMPLATES / name, workflow)
    outputs = _render(sim_cluster(1), tmp_path, workflow, *[f"--set={n}.ckpt_name={SIM_MODEL}" for n in loaders])
    assert outputs, "no image came back"
    sent = _prompt_of(outputs[0])
    for node_id, values in checks.items():
        assert {k: sent[node_id]["inputs"][k] for k in values} == values
    assert all(set(node["_meta"]) == {"title"} for node in sent.values())  # our marks were stripped
    with Image.open(outputs[0]) as img:
        assert img.size == (1024, 1024)  # the template's EmptyLatentImage


def test_a_subgraph_workflow_renders_with_values_set_inside_its_instances(sim_cluster: Any, tmp_path: Path) -> None:
    workflow = tmp_path / "soften.json"
    workflow.write_text(json.dumps(two_instances()))
    plate = tmp_path / "plate.png"
    Image.new("RGB", (32, 32), (200, 40, 40)).save(plate)
    outputs = _render(sim_cluster(1), tmp_path, workflow, "--image", f"1={plate}",
                      "--set", "Harder > ImageBlur.blur_radius=4")  # path of titles, then the class
    sent = [_prompt_of(path) for path in outputs]
    assert len(sent) == 2
    prompt = sent[0]
    assert prompt["11:1"]["inputs"]["blur_radius"] == 4 and prompt["10:1"]["inputs"]["blur_radius"] == 3
    assert prompt["11:1"]["inputs"]["image"] == ["10:1", 0]
