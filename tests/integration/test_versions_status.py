"""Capabilities learned per server: in the pool, in `status` (table and JSON), and the refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.comfy.capabilities import MINIMUM_VERSION
from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.errors import NoCapableServer
from nuke_comfyui.core.pool import Placement, ServerPool, ServerState

pytestmark = pytest.mark.integration
VERSIONS = ["0.3.30", "0.3.40", "0.3.58", "0.8.2"]


def _pool(cluster: Any) -> ServerPool:
    servers = [ServerConfig(name=f"s{i}", port=port) for i, port in enumerate(cluster.ports)]
    return ServerPool(ClusterConfig(servers=servers, poll_interval=0.1))


def test_pool_learns_each_servers_features_and_refuses_the_too_old_one(sim_cluster: Any) -> None:
    cluster = sim_cluster(4, comfy_version=VERSIONS)
    pool = _pool(cluster)
    try:
        statuses = {s.name: s for s in pool.refresh()}
        old = statuses["s0"]
        assert old.state is ServerState.ERROR
        assert old.error is not None and "s0" in old.error and "0.3.30" in old.error and MINIMUM_VERSION in old.error
        assert pool.capabilities("s1").summary() == "server-made prompt ids, untargeted interrupt, no jobs API"
        assert pool.capabilities("s2").summary() == "no jobs API"
        assert pool.capabilities("s3").summary() == "full"
        assert statuses["s3"].capabilities == pool.capabilities("s3")
        assert pool.client("s1").capabilities == pool.capabilities("s1")  # what cleanups read
        with pytest.raises(NoCapableServer, match=r"s0 is refused: .*0\.3\.30"):
            pool.choose(Placement(exclude={"s1", "s2", "s3"}), {})
    finally:
        pool.stop()


def test_a_post_answer_corrects_the_cached_prompt_id_feature(sim_cluster: Any) -> None:
    cluster = sim_cluster(1, comfy_version="0.8.2")
    pool = _pool(cluster)
    try:
        pool.refresh()
        seen = []
        pool.subscribe(seen.append)
        pool.observe_prompt_ids("s0", False)  # as if a fork reported 0.8.2 but made its own ids
        assert not pool.capabilities("s0").client_prompt_id
        assert seen and seen[-1].capabilities is not None and not seen[-1].capabilities.client_prompt_id
        pool.refresh()  # the same version again: the observation stands
        assert not pool.capabilities("s0").client_prompt_id
    finally:
        pool.stop()


def test_status_shows_protocol_in_the_table_and_json(sim_cluster: Any, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(4, comfy_version=VERSIONS)
    servers = [{"name": f"srv{i}", "port": port} for i, port in enumerate(cluster.ports)]
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": servers}))
    assert main(["status", "--json", "--config", str(config)]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["srv0"]["state"] == "error" and rows["srv0"]["capabilities"]["supported"] is False
    assert rows["srv1"]["capabilities"] == {
        "version": "0.3.40", "known": True, "client_prompt_id": False, "targeted_interrupt": False,
        "jobs_api": False, "supported": True, "refusal": None}
    assert rows["srv3"]["capabilities"]["jobs_api"] is True
    assert main(["status", "--config", str(config)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "PROTOCOL" in table[0]
    line = {row.split()[0]: row for row in table[1:]}
    assert "refused (older than 0.3.40)" in line["srv0"] and "upgrade ComfyUI on srv0" in line["srv0"]
    assert "untargeted interrupt" in line["srv1"] and "full" in line["srv3"]


def test_status_shows_what_each_server_does_with_image_files(sim_cluster: Any, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    """0.8.2: 8-bit PNG only; 0.22: PyAV EXR loading, no float saver; 0.33: EXR in, EXR/PNG16 out."""
    cluster = sim_cluster(3, comfy_version=["0.8.2", "0.22.0", "0.33.0"])
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": f"srv{i}", "port": p} for i, p in enumerate(cluster.ports)]}))
    assert main(["status", "--config", str(config)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "IMAGES" in table[0]
    line = {row.split()[0]: row for row in table[1:]}
    assert "8-bit PNG" in line["srv0"] and "EXR in, 8-bit PNG out" in line["srv1"]
    assert "EXR in, EXR/PNG16 out" in line["srv2"]
    assert main(["status", "--json", "--config", str(config)]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["srv2"]["images"]["save_exr"] is True and rows["srv2"]["images"]["float_width_multiple"] == 32
    assert rows["srv0"]["images"]["exr_load"] is False
