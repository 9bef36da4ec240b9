"""Each fault option of the simulator does what it says, deterministically."""

from __future__ import annotations

import pytest
import requests
import websocket
from simkit import wait_for, wait_history

pytestmark = pytest.mark.integration


def _prompt(seed, steps=2, size=16, prefix="f"):
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sim-model.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": size, "height": size, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["4", 1]}},
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["4", 0],
                "seed": seed,
                "steps": steps,
                "cfg": 7.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "positive": ["6", 0],
                "negative": ["6", 0],
                "latent_image": ["5", 0],
                "denoise": 1.0,
            },
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": prefix}},
    }


def _submit(url, prompt, client_id="c"):
    response = requests.post(url + "/prompt", json={"prompt": prompt, "client_id": client_id}, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["prompt_id"]


def _statuses(url, ids):
    return [wait_history(url, pid)["status"]["status_str"] for pid in ids]


def test_fail_rate_is_deterministic_per_server(sim_cluster):
    runs = []
    for _ in range(2):
        url = sim_cluster(1, fail_rate=0.5).urls[0]
        runs.append(_statuses(url, [_submit(url, _prompt(seed)) for seed in range(8)]))
    assert runs[0] == runs[1]
    assert "error" in runs[0] and "success" in runs[0]
    always = sim_cluster(1, fail_rate=1.0).urls[0]
    pid = _submit(always, _prompt(1))
    entry = wait_history(always, pid)
    event, data = entry["status"]["messages"][-1]
    assert (
        event == "execution_error"
        and data["node_type"] == "KSampler"
        and data["exception_type"] == "RuntimeError"
    )
    job = requests.get(always + f"/api/jobs/{pid}", timeout=5).json()
    assert job["status"] == "failed" and job["execution_error"]["node_id"] == "3"


def test_vram_limit_gives_torch_out_of_memory(sim_cluster):
    cluster = sim_cluster(2, vram_gb=[1, 24])
    small, big = cluster.urls
    stats = requests.get(small + "/system_stats", timeout=5).json()["devices"][0]
    assert stats["type"] == "cuda" and stats["vram_total"] == 1024**3
    assert _statuses(big, [_submit(big, _prompt(1, size=512))]) == ["success"]
    entry = wait_history(small, _submit(small, _prompt(1, size=512)))
    event, data = entry["status"]["messages"][-1]
    assert event == "execution_error" and data["exception_type"] == "torch.OutOfMemoryError"
    assert _statuses(small, [_submit(small, _prompt(2, size=64))]) == ["success"]


def test_crash_after_then_restart_on_same_port(sim_cluster, ws_factory):
    cluster = sim_cluster(1, crash_after=2)
    server = cluster.servers[0]
    url, port = server.url, server.port
    ws = ws_factory(url, "c")
    ws.recv()
    first = _submit(url, _prompt(1))
    assert _statuses(url, [first]) == ["success"]
    _submit(url, _prompt(2))
    wait_for(lambda: not server.running)
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/system_stats", timeout=2)
    with pytest.raises((websocket.WebSocketException, OSError)):
        for _ in range(100):
            ws.recv(2)
            ws.ws.ping()
    output = server.base_dir / "output" / "f_00001_.png"
    assert output.is_file()
    server.restart()
    assert server.port == port
    assert requests.get(url + "/history", timeout=5).json() == {}
    assert requests.get(url + "/queue", timeout=5).json() == {"queue_running": [], "queue_pending": []}
    assert requests.get(url + "/view", params={"filename": "f_00001_.png"}, timeout=5).status_code == 200


def test_crash_method_and_stop(sim_cluster):
    cluster = sim_cluster(2)
    cluster.servers[0].crash()
    with pytest.raises(requests.ConnectionError):
        requests.get(cluster.urls[0] + "/prompt", timeout=2)
    assert requests.get(cluster.urls[1] + "/prompt", timeout=2).status_code == 200
    cluster.servers[1].stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(cluster.urls[1] + "/prompt", timeout=2)
    cluster.servers[0].restart()
    assert requests.get(cluster.urls[0] + "/prompt", timeout=2).status_code == 200


def test_hang_after_never_finishes_but_honours_interrupt(sim_cluster):
    url = sim_cluster(1, hang_after=1).urls[0]
    assert _statuses(url, [_submit(url, _prompt(1))]) == ["success"]
    stuck = _submit(url, _prompt(2))
    queued = _submit(url, _prompt(3))
    wait_for(lambda: requests.get(url + "/queue", timeout=5).json()["queue_running"])
    job = requests.get(url + f"/api/jobs/{stuck}", timeout=5).json()
    assert job["status"] == "in_progress"
    assert requests.get(url + f"/history/{stuck}", timeout=5).json() == {}
    requests.post(url + "/interrupt", json={"prompt_id": stuck}, timeout=5)
    assert wait_history(url, stuck)["status"]["messages"][-1][0] == "execution_interrupted"
    wait_for(lambda: requests.get(url + f"/api/jobs/{queued}", timeout=5).json()["status"] == "in_progress")


def test_drop_ws_after_closes_sockets_but_keeps_working(sim_cluster, ws_factory):
    url = sim_cluster(1, drop_ws_after=2).urls[0]
    ws = ws_factory(url, "c")
    ws.recv()
    first = _submit(url, _prompt(1))
    ws.until_done(first)
    second = _submit(url, _prompt(2))
    with pytest.raises((websocket.WebSocketException, OSError)):
        for _ in range(200):
            ws.ws.settimeout(5)
            if ws.ws.recv() == "":
                raise websocket.WebSocketConnectionClosedException("closed")
    assert wait_history(url, second)["status"]["status_str"] == "success"
    again = ws_factory(url, "c")
    assert again.recv()["type"] == "status"


def test_missing_nodes_fail_validation_like_a_server_without_them(sim_cluster):
    cluster = sim_cluster(2, missing_nodes=["KSampler+VAEDecode", ""])
    lacking, full = cluster.urls
    response = requests.post(lacking + "/prompt", json={"prompt": _prompt(1)}, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_prompt"
    assert "KSampler" in response.json()["error"]["message"]
    assert "KSampler" not in requests.get(lacking + "/object_info", timeout=5).json()
    assert requests.get(lacking + "/object_info/KSampler", timeout=5).json() == {}
    assert "KSampler" in requests.get(full + "/object_info", timeout=5).json()
    assert requests.post(full + "/prompt", json={"prompt": _prompt(1)}, timeout=5).status_code == 200


def test_speeds_scale_sampler_cost_and_executions_are_recorded(sim_cluster):
    cluster = sim_cluster(2, speeds=[1, 4], seconds_per_step=0.004)
    durations = []
    for server in cluster.servers:
        pid = _submit(server.url, _prompt(1, steps=50))
        wait_history(server.url, pid)
        (record,) = server.executions
        assert record.prompt_id == pid and record.status == "success" and record.ended >= record.started
        durations.append(record.ended - record.started)
    assert durations[0] >= 50 * 0.004 * 0.99  # the sampler cost is a floor: steps x seconds_per_step / speed
    assert durations[1] >= 50 * 0.004 / 4 * 0.99
    assert cluster.prompt_count == 2


def test_option_lists_must_match_server_count(tmp_path):
    from nuke_comfyui.sim import SimCluster

    with pytest.raises(ValueError, match="speeds"):
        SimCluster(3, base_dir=tmp_path, speeds=[1, 2])
