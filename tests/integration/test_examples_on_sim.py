"""Every bundled example workflow is accepted and completes on the simulator (real ComfyUI input names)."""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.config import ServerConfig

pytestmark = pytest.mark.integration
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_to_completion(sim_cluster: Any, path: Path) -> None:
    cluster = sim_cluster(1)
    client = ComfyClient(ServerConfig(name="sim", port=cluster.ports[0]))
    prompt = wf.load_workflow(path)
    if any(node["class_type"] == "LoadImage" for node in prompt.values()):
        buffer = io.BytesIO()
        Image.new("RGB", (32, 32), (200, 40, 40)).save(buffer, "PNG")
        uploaded = client.upload_image(buffer.getvalue(), "example_in.png")
        wf.patch_image(prompt, wf.find_input_node(prompt), uploaded.load_image_value)
    prompt_id = uuid.uuid4().hex
    result = client.submit(prompt, client_id="examples", prompt_id=prompt_id)
    assert result.node_errors == {}
    deadline = time.monotonic() + 20
    entry = None
    while entry is None and time.monotonic() < deadline:
        entry = client.history(prompt_id)
        time.sleep(0.02)
    assert entry is not None and entry.status_str == "success"
    assert [f.node_id for f in entry.outputs] == wf.find_output_nodes(prompt)
