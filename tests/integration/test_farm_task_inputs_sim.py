"""A farm task renders the workflow inputs its bundle carries: --values (the Nuke node's Workflow tab,
animated knobs per frame), --set, --image and --servers, checked in the prompts the simulator ran.

A task is `nuke-comfyui render ... --task-frames F --group-id G` on a worker; here it runs in-process
against the simulator on 127.0.0.1. Before this test the task built its request without them, so a
farm render silently used the workflow file's values.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest
from PIL import Image

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.input_values_file import read_values_file, write_values_file
from nuke_comfyui.core.render_request import RequestError

ROOT = Path(__file__).resolve().parents[2]


def _plates(folder: Path, frames: range, colour: tuple) -> str:
    folder.mkdir(parents=True)
    for frame in frames:
        Image.new("RGB", (16, 16), colour).save(folder / f"plate.{frame:04d}.png")
    return str(folder / "plate.####.png")


def _config(cluster: Any, tmp_path: Path) -> Path:
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": f"sim{i}", "url": u} for i, u in enumerate(cluster.urls)]}))
    return config


def _prompts(folder: Path) -> Dict[str, Dict[str, Any]]:
    """File name -> the prompt the simulator ran (its SaveImage embeds it, like ComfyUI's PNG metadata)."""
    found = {}
    for png in sorted(folder.rglob("*.png")):
        with Image.open(png) as img:
            found[png.name] = json.loads(img.text["prompt"])
    return found


def test_a_farm_task_renders_the_values_file_set_and_servers(sim_cluster: Any, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(2)
    plate = _plates(tmp_path / "plates", range(1001, 1004), (200, 40, 40))
    values = write_values_file(str(tmp_path / "bundle" / "input_values.json"), {"6.text": "a red barn"},
                               {"3.denoise": {"1001": 0.2, "1002": 0.5, "1003": 0.9}})
    out = tmp_path / "out"
    argv = ["render", str(ROOT / "examples/img2img.json"), "--output", str(out), "--input", plate,
            "--frames", "1001-1003", "--task-frames", "1001-1003", "--group-id", uuid.uuid4().hex,
            "--values", values, "--set", "3.steps=7", "--servers", "sim1", "--config", str(_config(cluster, tmp_path)),
            "--json"]
    assert main(argv) == 0, capsys.readouterr().err
    prompts = _prompts(out)
    assert len(prompts) == 3
    by_frame = {int(name.rsplit(".", 2)[-2]): p for name, p in prompts.items()}
    assert {f: p["3"]["inputs"]["denoise"] for f, p in by_frame.items()} == {1001: 0.2, 1002: 0.5, 1003: 0.9}
    assert {p["6"]["inputs"]["text"] for p in prompts.values()} == {"a red barn"}
    assert {p["3"]["inputs"]["steps"] for p in prompts.values()} == {7}  # --set applied on the worker too
    assert [len(s.executions) for s in cluster.servers] == [0, 3]  # --servers sim1 only


def test_a_bundle_carries_the_values_file_as_a_job_parameter(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    values = write_values_file(str(tmp_path / "v.json"), {"3.steps": 9}, None)
    argv = ["bundle", str(ROOT / "examples/img2img.json"), "--output", str(tmp_path / "out"),
            "--values", values, "--servers", "gpu1,gpu2", "--bundle-dir", str(tmp_path / "bundle"), "--json"]
    assert main(argv) == 0
    import yaml

    template = yaml.safe_load((tmp_path / "bundle" / "template.yaml").read_text())
    args = template["steps"][0]["script"]["actions"]["onRun"]["args"]
    assert args[args.index("--values") + 1] == "{{Param.InputValues}}"
    assert args[args.index("--servers") + 1] == "gpu1,gpu2"
    given = yaml.safe_load((tmp_path / "bundle" / "parameter_values.yaml").read_text())["parameterValues"]
    assert {"name": "InputValues", "value": values} in given


@pytest.mark.parametrize("text, problem", [
    ("[1, 2]", "must be an object"),
    ('{"values": {"3.steps": 9}, "extra": 1}', "must be an object"),
    ('{"frame_values": {"3.denoise": 0.5}}', "frame_values"),
    ("{not json", "not valid JSON"),
])
def test_a_bad_values_file_is_refused_naming_the_file_and_the_shape(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "values.json"
    path.write_text(text)
    with pytest.raises(RequestError, match=problem) as caught:
        read_values_file(str(path))
    assert str(path) in str(caught.value) and "NODE.INPUT" in str(caught.value)


def test_values_file_round_trip(tmp_path: Path) -> None:
    path = write_values_file(str(tmp_path / "a" / "v.json"), {"6.text": "x"}, {"3.cfg": {"1": 7.5}})
    assert read_values_file(path) == ({"6.text": "x"}, {"3.cfg": {"1": 7.5}})
    assert read_values_file(write_values_file(str(tmp_path / "e.json"), None, None)) == (None, None)
