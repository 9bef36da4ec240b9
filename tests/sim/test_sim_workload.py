"""The benchmark workload shapes of the simulator: heavy jobs, a slowdown, lean mode."""

from __future__ import annotations

import pytest
import requests
from simkit import wait_history

from nuke_comfyui.sim.workload import Workload

pytestmark = pytest.mark.integration


def _prompt(seed: int, steps: int = 10) -> dict:
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sim-model.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 16, "height": 16, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {
            "model": ["4", 0], "seed": seed, "steps": steps, "cfg": 7.0, "sampler_name": "euler",
            "scheduler": "normal", "positive": ["6", 0], "negative": ["6", 0], "latent_image": ["5", 0],
            "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "w"}},
    }


def _run(server, seed: int, client_id: str = "c") -> dict:
    response = requests.post(server.url + "/prompt", json={"prompt": _prompt(seed), "client_id": client_id},
                             timeout=5)
    assert response.status_code == 200, response.text
    return wait_history(server.url, response.json()["prompt_id"])


def _duration(server) -> float:
    record = server.executions[-1]
    return record.ended - record.started


def test_cost_factor_and_speed_rules():
    heavy = Workload(heavy_every=5, heavy_factor=5.0)
    assert [heavy.cost_factor({"seed": s}) for s in (4, 5, 10, 11)] == [1.0, 5.0, 5.0, 1.0]
    assert heavy.cost_factor({"noise_seed": 15}) == 5.0 and heavy.cost_factor({}) == 1.0
    slow = Workload(slow_to=1.0, slow_after_s=2.0)
    assert [slow.speed_at(4.0, t) for t in (None, 0.0, 1.99, 2.0, 9.0)] == [4.0, 4.0, 4.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="slow_to"):
        Workload(slow_to=0)


def test_heavy_seeds_cost_their_factor(sim_cluster):
    (server,) = sim_cluster(1, seconds_per_step=0.01, workload=Workload(heavy_every=5, heavy_factor=5.0)).servers
    _run(server, 6)
    light = _duration(server)
    _run(server, 10)
    heavy = _duration(server)
    assert heavy >= 10 * 0.01 * 5 * 0.99  # 10 steps x 5: the sampler cost is a floor
    assert light < heavy / 2


def test_slowdown_applies_after_its_time(sim_cluster):
    (server,) = sim_cluster(1, speeds=4, seconds_per_step=0.01,
                            workload=Workload(slow_to=1.0, slow_after_s=0.3)).servers
    _run(server, 1)
    assert server.executions[0].speed == 4.0  # before its time: full speed
    while server.executions[-1].ended - server.executions[0].started < 0.3:
        _run(server, len(server.executions) + 1)
    _run(server, 99)
    assert server.executions[-1].speed == 1.0
    assert _duration(server) >= 10 * 0.01 * 0.99  # speed 1 now: the sampler's sleep is a floor (no upper
    # bound on wall time is asserted: the machine is shared and noisy)


def test_lean_mode_sends_no_progress_frames(sim_cluster, ws_factory):
    (server,) = sim_cluster(1, workload=Workload(lean=True)).servers
    ws = ws_factory(server.url, "lean")
    response = requests.post(server.url + "/prompt", json={"prompt": _prompt(3), "client_id": "lean"}, timeout=5)
    messages = ws.until_done(response.json()["prompt_id"])
    kinds = {m["type"] for m in messages}
    assert "executed" in kinds and "execution_success" in kinds
    assert not kinds & {"progress", "progress_state"}
