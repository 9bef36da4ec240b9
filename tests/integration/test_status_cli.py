"""`nuke-comfyui status`: JSON fields, table, exit codes, and a clear message for a broken config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nuke_comfyui.cli.main import main

pytestmark = pytest.mark.integration
FIELDS = {"name", "url", "state", "queue_running", "queue_pending", "vram_total", "vram_free", "latency_ms", "error"}


def write_config(path: Path, ports: Any) -> Path:
    servers = [{"name": f"srv{i}", "host": "127.0.0.1", "port": port} for i, port in enumerate(ports)]
    path.write_text(json.dumps({"servers": servers}))
    return path


def test_json_lists_every_server_and_exits_0_when_one_is_usable(sim_cluster: Any, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(2)
    cluster.servers[1].crash()
    config = write_config(tmp_path / "servers.json", cluster.ports)
    assert main(["status", "--json", "--config", str(config)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows] == ["srv0", "srv1"]
    assert all(set(row) >= FIELDS for row in rows)
    assert rows[0]["state"] == "online" and rows[0]["error"] is None and rows[0]["latency_ms"] > 0
    assert rows[1]["state"] == "offline" and str(cluster.ports[1]) in rows[1]["error"]


def test_exit_1_when_nothing_is_usable_and_the_table_names_the_problem(sim_cluster: Any, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    cluster.servers[0].crash()
    config = write_config(tmp_path / "servers.json", cluster.ports)
    assert main(["status", "--config", str(config)]) == 1
    table = capsys.readouterr().out
    assert "NAME" in table and "srv0" in table and "offline" in table and "cannot reach" in table


def test_a_broken_config_is_a_clear_error_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "servers.json"
    config.write_text('{"servers": [{"name": "gpu01", "port": "eighty"}]}')
    assert main(["status", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "gpu01" in err and "'port'" in err and str(config) in err and "Traceback" not in err
