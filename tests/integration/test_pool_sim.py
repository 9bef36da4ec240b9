"""The pool against simulated servers on 127.0.0.1: crashes, restarts, other users' jobs, capabilities."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, List

import pytest
import requests

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.errors import NoCapableServer
from nuke_comfyui.core.pool import Placement, ServerPool, ServerState

pytestmark = pytest.mark.integration
POLL = 0.1
SLOW_PROMPT = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
    "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sim-model.safetensors"}},
    "3": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 2]}},
    "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["2", 1]}},
    "5": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "seed": 1, "steps": 200, "cfg": 1.0,
                                               "sampler_name": "euler", "scheduler": "simple", "positive": ["4", 0],
                                               "negative": ["4", 0], "latent_image": ["3", 0], "denoise": 1.0}},
    "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["2", 2]}},
    "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "other/user"}},
}


def until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def pool_for(cluster: Any, **extra: Any) -> ServerPool:
    servers = [ServerConfig(name=f"s{i}", port=port) for i, port in enumerate(cluster.ports)]
    return ServerPool(ClusterConfig(servers=servers, poll_interval=POLL, **extra))


def post_as_other_user(url: str, seed: int) -> str:
    prompt = json.loads(json.dumps(SLOW_PROMPT))
    prompt["5"]["inputs"]["seed"] = seed
    answer = requests.post(url + "/prompt", json={"prompt": prompt, "client_id": "another-artist"}, timeout=5)
    answer.raise_for_status()
    return str(answer.json()["prompt_id"])


def test_crashed_server_goes_offline_with_a_reason_and_comes_back(sim_cluster: Any) -> None:
    cluster = sim_cluster(2)
    with pool_for(cluster) as pool:
        assert until(lambda: [s.state for s in pool.statuses()] == [ServerState.ONLINE, ServerState.ONLINE])
        cluster.servers[1].crash()
        assert until(lambda: pool.status("s1").state is ServerState.OFFLINE, timeout=5)
        error = pool.status("s1").error or ""
        assert f"127.0.0.1:{cluster.ports[1]}" in error and "cannot reach" in error
        assert error.count("cannot reach") == 1, error  # said once, not "cannot reach ... cannot reach ..."
        assert pool.status("s0").state is ServerState.ONLINE
        cluster.servers[1].restart()
        assert until(lambda: pool.status("s1").state is ServerState.ONLINE, timeout=10)


def test_disabled_server_is_never_contacted(sim_cluster: Any) -> None:
    cluster = sim_cluster(1)
    servers = [ServerConfig(name="on", port=cluster.ports[0]),
               ServerConfig(name="off", port=cluster.ports[0] + 0, enabled=False)]
    contacted: List[str] = []

    def factory(server: ServerConfig) -> Any:
        from nuke_comfyui.core.comfy.client import ComfyClient

        client = ComfyClient(server)
        original = client.queue

        def queue() -> Any:
            contacted.append(server.name)
            return original()

        client.queue = queue  # type: ignore[method-assign]
        return client

    with ServerPool(ClusterConfig(servers=servers, poll_interval=POLL), client_factory=factory) as pool:
        assert until(lambda: contacted.count("on") >= 3)
        assert "off" not in contacted and pool.status("off").state is ServerState.DISABLED


def test_other_users_jobs_make_a_server_busy_and_least_loaded_avoids_it(sim_cluster: Any) -> None:
    cluster = sim_cluster(2, seconds_per_step=0.05)
    with pool_for(cluster) as pool:
        assert until(lambda: all(s.capability_checked for s in pool._servers.values()))
        ids = [post_as_other_user(cluster.urls[0], seed) for seed in (1, 2, 3)]
        assert until(lambda: pool.status("s0").queue_pending >= 1 and pool.status("s0").queue_running == 1)
        assert pool.status("s0").state is ServerState.BUSY
        assert pool.choose(Placement(strategy="least-loaded"), {}) == "s1"
        # Fair share: s0 is full of their jobs, yet one prompt of ours may always wait in its queue
        # (ComfyUI's FIFO then alternates the two artists); a second one may not.
        assert pool.choose(Placement(strategy="round-robin"), {"s1": 2}) == "s0"
        assert pool.choose(Placement(strategy="round-robin"), {"s1": 2, "s0": 1}) is None
        requests.post(cluster.urls[0] + "/queue", json={"delete": ids}, timeout=5)
        for prompt_id in ids:
            requests.post(cluster.urls[0] + "/interrupt", json={"prompt_id": prompt_id}, timeout=5)


def test_a_server_without_the_nodes_never_gets_the_job(sim_cluster: Any) -> None:
    cluster = sim_cluster(2, missing_nodes=["KSampler", ""])
    with pool_for(cluster) as pool:
        assert until(lambda: all(s.capability_checked for s in pool._servers.values()))
        assert until(lambda: pool.status("s1").state.usable)  # on a loaded machine its probe may trail
        placement = Placement(class_types={"KSampler", "SaveImage"}, strategy="round-robin")
        assert {pool.choose(placement, {}) for _ in range(4)} == {"s1"}
        assert pool.missing_classes("s0", {"KSampler"}) == {"KSampler"}
        with pytest.raises(NoCapableServer, match="s0 lacks KSampler"):
            pool.choose(Placement(class_types={"KSampler"}, exclude={"s1"}, strategy="fastest"), {})


def test_our_own_prompts_do_not_count_as_other_users(sim_cluster: Any) -> None:
    cluster = sim_cluster(1, seconds_per_step=0.05)
    with pool_for(cluster) as pool:
        pid = uuid.uuid4().hex
        pool.client("s0").submit(json.loads(json.dumps(SLOW_PROMPT)), client_id="us", prompt_id=pid)
        assert until(lambda: pool.status("s0").queue_running == 1)
        assert pool._servers["s0"].others == 0
        pool.client("s0").interrupt(pid)
