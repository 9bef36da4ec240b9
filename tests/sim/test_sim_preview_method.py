"""The simulator honours a prompt's `extra_data.preview_method` as the real servers recorded do.

Source: data/comfyui-preview-method-capture.json (its "note" says how it was recorded): a real
0.33.0 started with `--preview-method latent2rgb` and a real 0.8.2 started without one, each given
one sampler prompt per override, in the recorded order (none, unset, latent2rgb, default). The
simulator, on the same release profile with the same server option, must send the same preview
frames for each: none on `none`, the server's own setting on unset/`default` (an override never
outlives its prompt), previews on `latent2rgb` even where the server has none. Releases before
0.5.0 ignore the key (upstream dbd33045 is the first that reads it; 0.4.0's execution.py does not).
"""

from __future__ import annotations

import base64
import io
import json
import struct
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import requests
from PIL import Image

from nuke_comfyui.sim.cluster import SimCluster
from nuke_comfyui.sim.previews import preview_size
from tests.sim.test_sim_previews import Socket, header, txt2img

CAPTURE = Path(__file__).parent / "data" / "comfyui-preview-method-capture.json"


def recorded() -> Dict[str, Any]:
    return json.loads(CAPTURE.read_text())


def sampler_runs(url: str) -> List[Dict[str, Any]]:
    """The recorded sampler prompts sent to one server by a negotiating client, in their order."""
    return [run for run in recorded()["runs"] if run["url"] == url and run["workflow"] == "sampler"
            and run["negotiated"]]


def server_method(argv: List[str]) -> Optional[str]:
    return argv[argv.index("--preview-method") + 1] if "--preview-method" in argv else None


def binary_types(frames: List[Any]) -> List[int]:
    return [frame["type"] for frame in frames if frame["kind"] == "binary"]


def run_on_sim(url: str, steps: int, extra_data: Dict[str, Any], size: int = 128) -> List[bytes]:
    """One txt2img prompt of `size` px with `extra_data` and a fresh seed (as recorded: never the
    cached sampler of the previous prompt); the binary frames our socket got."""
    flow = txt2img(steps)
    for node in flow.values():
        if node["class_type"] == "EmptyLatentImage":
            node["inputs"].update(width=size, height=size)
        if "noise_seed" in node["inputs"]:
            node["inputs"]["noise_seed"] = uuid.uuid4().int % 2**31
    client_id = uuid.uuid4().hex  # one per connection, as ComfyUI wants
    sock = Socket(url, client_id, negotiate=True)
    body = {"prompt": flow, "prompt_id": str(uuid.uuid4()), "client_id": client_id, "extra_data": extra_data}
    pid = requests.post(f"{url}/prompt", json=body, timeout=5).json()["prompt_id"]
    sock.until_done(pid)
    sock.close()
    return list(sock.of("binary"))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8233", "http://127.0.0.1:8208"])
def test_the_simulator_sends_the_previews_the_real_release_sent_for_each_override(tmp_path: Path, url: str) -> None:
    server = recorded()["servers"][url]
    steps = int(recorded()["workflows"]["sampler"]["4"]["inputs"]["steps"])
    runs = sampler_runs(url)
    assert [run["extra_data_sent"].get("preview_method") for run in runs] == ["none", None, "latent2rgb", "default"]
    with SimCluster(1, base_dir=tmp_path, previews=server_method(server["argv"]),
                    comfy_version=server["comfyui_version"], seconds_per_step=0.001) as cluster:
        for run in runs:
            got = [header(frame)[0] for frame in run_on_sim(cluster.urls[0], steps, run["extra_data_sent"])]
            assert got == binary_types(run["frames"]), run["label"]


def test_a_release_before_0_5_ignores_the_override(tmp_path: Path) -> None:
    with SimCluster(1, base_dir=tmp_path, previews="latent2rgb", comfy_version="0.4.0",
                    seconds_per_step=0.001) as cluster:
        frames = run_on_sim(cluster.urls[0], 3, {"preview_method": "none"})
    assert [header(frame)[0] for frame in frames] == [4, 4, 4]


def test_auto_means_latent2rgb_and_an_unknown_name_keeps_the_servers_setting(tmp_path: Path) -> None:
    with SimCluster(1, base_dir=tmp_path, seconds_per_step=0.001) as cluster:  # a server without previews
        auto = run_on_sim(cluster.urls[0], 2, {"preview_method": "auto"})
        unknown = run_on_sim(cluster.urls[0], 2, {"preview_method": "sharpest"})
    assert [header(frame)[0] for frame in auto] == [4, 4] and unknown == []


def test_a_latent2rgb_preview_is_fitted_up_to_512_px_like_the_real_one(tmp_path: Path) -> None:
    real = next(frame for run in recorded()["runs"] if run["label"] == "033_sampler_unset"
                for frame in run["frames"] if "base64" in frame)
    raw = base64.b64decode(real["base64"])
    length = struct.unpack(">I", raw[4:8])[0]
    real_size = Image.open(io.BytesIO(raw[8 + length:])).size
    assert real_size == preview_size("latent2rgb", (128, 128)) == (512, 512)  # the recorded image was 128 px
    with SimCluster(1, base_dir=tmp_path, previews="latent2rgb", seconds_per_step=0.001) as cluster:
        frames = run_on_sim(cluster.urls[0], 1, {}, size=128)
    assert Image.open(io.BytesIO(header(frames[0])[2])).size == real_size
