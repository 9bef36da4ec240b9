"""Workflow and settings files that are not what they seem (issue 28, item 4 and messages).

Before: a workflow path of /dev/zero grew the process to 6.3 GB in 8 s and a FIFO blocked for
ever; duplicate node keys were collapsed silently (JSON keeps the last); a UTF-8 byte-order mark
was refused with "export it again". Every refusal is one line from `render`, before any farm.
"""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path
from typing import Any

import pytest
from hostile import farm_config, run_bounded

from nuke_comfyui.core.config_loader import load_config
from nuke_comfyui.core.workflow import load_workflow

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _refused(tmp_path: Path, cluster: Any, capsys: pytest.CaptureFixture, workflow: str) -> str:
    journal = tmp_path / "journal.sqlite3"
    argv = ["render", workflow, "--output", str(tmp_path / "out"),
            "--config", str(farm_config(tmp_path, cluster.urls)), "--journal", str(journal)]
    assert run_bounded(argv, 20.0) == 1
    assert sum(server.prompt_count for server in cluster.servers) == 0 and not journal.exists()
    err: str = capsys.readouterr().err.strip()
    return err


def test_dev_zero_is_refused_without_reading_it(sim_cluster: Any, tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert _refused(tmp_path, sim_cluster(1), capsys, "/dev/zero") == (
        "nuke-comfyui render: workflow /dev/zero is a device, not a file; pick the workflow's JSON file")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # kB: nothing was read


def test_a_fifo_is_refused_without_blocking(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fifo = tmp_path / "workflow.json"
    os.mkfifo(fifo)
    assert _refused(tmp_path, sim_cluster(1), capsys, str(fifo)) == (
        f"nuke-comfyui render: workflow {fifo} is a named pipe (FIFO), not a file; pick the workflow's JSON file")


def test_a_folder_is_refused(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    assert _refused(tmp_path, sim_cluster(1), capsys, str(folder)) == (
        f"nuke-comfyui render: workflow {folder} is a folder, not a file; pick the workflow's JSON file")


def test_duplicate_node_keys_are_refused_not_collapsed(sim_cluster: Any, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    text = (EXAMPLES / "txt2img_variations.json").read_text(encoding="utf-8")
    assert text.startswith("{") and '"3": {' in text  # node 3 is the sampler; a second "3" comes first
    path = tmp_path / "twice.json"
    path.write_text('{"3": {"class_type": "KSampler", "inputs": {}},' + text[1:], encoding="utf-8")
    assert _refused(tmp_path, sim_cluster(1), capsys, str(path)) == (
        f"nuke-comfyui render: workflow {path} has the key '3' twice in one object (JSON keeps only the last, "
        "so a node would vanish silently); export it again from ComfyUI")


def test_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    workflow = tmp_path / "bom.json"
    workflow.write_bytes(b"\xef\xbb\xbf" + (EXAMPLES / "txt2img_variations.json").read_bytes())
    assert load_workflow(workflow) == json.loads((EXAMPLES / "txt2img_variations.json").read_text())
    settings = tmp_path / "servers.json"
    settings.write_bytes(b"\xef\xbb\xbf" + json.dumps({"servers": [{"name": "gpu01"}]}).encode())
    assert [s.name for s in load_config(settings, environ={}).cluster.servers] == ["gpu01"]


def test_nuke_input_is_found_when_it_is_not_the_first_loader() -> None:
    """Issue 28 lists a LoadImage titled "Nuke Input" after another loader as not detected; in API
    format it is (this pins it), whatever the order or the title's case and spaces."""
    from nuke_comfyui.core.workflow import find_input_node, validate

    data = json.loads((EXAMPLES / "img2img.json").read_text())
    data["1"]["_meta"]["title"] = "mask"  # the first loader is another one
    for title in ("Nuke Input", " nuke input "):
        data["50"] = {"class_type": "LoadImage", "inputs": {"image": "plate.png"}, "_meta": {"title": title}}
        assert find_input_node(validate(data)) == "50"
