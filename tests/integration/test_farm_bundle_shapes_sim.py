"""Bundles run by openjd-cli (`openjd run`) on the simulator: path mapping, and every render shape split into tasks.

- A bundle written on a "Windows" workstation (every path `U:/...`, server settings whose shared
  folder is `U:/share`) renders on this Linux machine through a pathmapping-1.0 rules file: the
  session maps the PATH parameters, the task maps what is not a parameter (input values,
  `dir_local`), and the result equals a direct render with the Linux paths.
- Variation-only renders become a task per variation block, and frames x variations are split
  by both; the tasks together render exactly the local render's files, pixels and seeds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import pytest
import yaml

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.farm_bundle.bundle import write_render_bundle
from nuke_comfyui.farm_bundle.template import BundleOptions
from tests.integration.test_farm_bundle_sim import BIN, EXAMPLES, _config, _env, _files, _plates, _worker

pytestmark = pytest.mark.integration


WINDOWS_SUBMISSION = Path(__file__).with_name("openjd_windows_submission.py")


def _openjd(template: Path, params: Dict[str, str], env: Dict[str, str], extra: Sequence[str] = (),
            windows: bool = False) -> str:
    openjd = [sys.executable, str(WINDOWS_SUBMISSION)] if windows else [str(BIN / "openjd")]
    command = [*openjd, "run", str(template), *[a for k, v in params.items() for a in ("-p", f"{k}={v}")],
               *extra]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


def _direct(argv: List[str], capsys: pytest.CaptureFixture) -> str:
    assert main([*argv, "--json"]) == 0
    return str(json.loads(capsys.readouterr().out)["group_id"])


def test_a_windows_bundle_renders_here_through_path_mapping_rules(sim_cluster, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    drive = tmp_path / "U"  # what U:/ is on this "Linux worker"
    drive.mkdir()
    plate = _plates(drive / "plates", range(1, 3))
    (drive / "shots").mkdir()
    workflow = drive / "shots" / "img2img.json"
    workflow.write_text((EXAMPLES / "img2img.json").read_text())
    (drive / "share").symlink_to(cluster.servers[0].base_dir)  # the server's ComfyUI root, shared
    settings = drive / "shots" / "servers.json"  # written on Windows: the share is U:/share there
    server = {"name": "sim0", "url": cluster.urls[0], "transfer": "shared", "dir_local": "U:/share",
              "dir_remote": str(cluster.servers[0].base_dir)}
    settings.write_text(json.dumps({"servers": [server]}))
    values = drive / "shots" / "input_values.json"  # a path inside the values is the task's to map
    values.write_text(json.dumps({"values": {"6.text": "U:/shots/notes/fox"}, "frame_values": {}}))
    request = RenderRequest(workflow_path="U:/shots/img2img.json", output_dir="U:/renders",
                            input_pattern="U:/plates/plate.####.png", frames="1-2", variations=1, base_seed=5)
    options = BundleOptions(frames_per_task=1, config="U:/shots/servers.json", values_file="U:/shots/input_values.json",
                            command=_worker(tmp_path), group_id="e" * 32)
    bundle = write_render_bundle(str(tmp_path / "bundle"), request, options, shared=["U:/share"])
    assets = yaml.safe_load(bundle.assets.read_text())["assetReferences"]  # type: ignore[union-attr]
    assert sorted(assets["inputs"]["filenames"]) == sorted([
        "U:/plates/plate.0001.png", "U:/plates/plate.0002.png", "U:/shots/img2img.json",
        "U:/shots/input_values.json", "U:/shots/servers.json"])  # the plate is not under the share: attached
    assert assets["outputs"]["directories"] == ["U:/renders"]

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"version": "pathmapping-1.0", "path_mapping_rules": [
        {"source_path_format": "WINDOWS", "source_path": "U:\\", "destination_path": str(drive)}]}))
    env = _env(cluster, tmp_path)
    env.pop("NUKE_COMFYUI_SERVERS")  # the workers read the bundle's settings file
    out = _openjd(bundle.template, {k: str(v) for k, v in bundle.without_default.items()}, env,
                  ["--path-mapping-rules", f"file://{rules}"], windows=True)
    assert out.count("farm task: rendering") == 2, out[-3000:]  # one task per frame
    farm = _files(drive / "renders" / f"img2img_{'e' * 8}")
    assert sorted(farm) == ["var01/img2img_var01.0001.png", "var01/img2img_var01.0002.png"]
    for _, prompt in farm.values():
        assert json.loads(prompt)["6"]["inputs"]["text"] == f"{drive}/shots/notes/fox"  # mapped inside the values
    linux_values = tmp_path / "linux_values.json"
    linux_values.write_text(json.dumps({"values": {"6.text": f"{drive}/shots/notes/fox"}}))
    group = _direct(["render", str(workflow), "--output", str(tmp_path / "local"), "--input", str(plate),
                     "--frames", "1-2", "--base-seed", "5", "--values", str(linux_values),
                     "--config", str(_config(cluster, tmp_path))], capsys)
    assert farm == _files(tmp_path / "local" / f"img2img_{group[:8]}")
    assert not list(Path.cwd().glob("U:*")), "a path was used unmapped"


@pytest.mark.parametrize(("frames", "variations", "per_task", "tasks"), [
    (None, 3, None, 3),  # variation-only: one task per variation by default
    ("1-2", 3, 2, 4),  # frames x variations: 2 frame chunks x 2 variation blocks
])
def test_variations_split_into_tasks_render_what_a_local_render_renders(
        sim_cluster, tmp_path: Path, capsys: pytest.CaptureFixture,
        frames: str, variations: int, per_task: int, tasks: int) -> None:
    cluster = sim_cluster(2)
    argv = ["--output", str(tmp_path / "OUT"), "--variations", str(variations), "--seed-strategy", "golden",
            "--base-seed", "9"]
    if frames:
        plate = _plates(tmp_path / "plates", range(1, 3))
        workflow, label = EXAMPLES / "img2img.json", "img2img"
        argv += ["--input", str(plate), "--frames", frames]
    else:
        workflow, label = EXAMPLES / "txt2img_variations.json", "txt2img_variations"
    bundle_argv = ["bundle", str(workflow), *argv, "--bundle-dir", str(tmp_path / "bundle"),
                   "--worker-command", _worker(tmp_path), "--frames-per-task", "1"]
    if per_task:
        bundle_argv += ["--variations-per-task", str(per_task)]
    summary_group = _direct([a.replace("OUT", "farm") for a in bundle_argv], capsys)
    template = yaml.safe_load((tmp_path / "bundle" / "template.yaml").read_text())
    assert [p["name"] for p in template["steps"][0]["parameterSpace"]["taskParameterDefinitions"]] == (
        ["Frame", "Variation"] if frames else ["Variation"])
    params = {"Workflow": str(workflow), "OutputDir": str(tmp_path / "farm")}
    if frames:
        params["InputPattern"] = str(plate)
    out = _openjd(tmp_path / "bundle" / "template.yaml", params, _env(cluster, tmp_path))
    assert out.count("farm task: rendering") == tasks, out[-3000:]
    farm = _files(tmp_path / "farm" / f"{label}_{summary_group[:8]}")
    group = _direct(["render", str(workflow), *[a.replace("OUT", "local") for a in argv],
                     "--config", str(_config(cluster, tmp_path))], capsys)
    local = _files(tmp_path / "local" / f"{label}_{group[:8]}")
    assert len(local) == variations * (2 if frames else 1)
    assert farm == local
