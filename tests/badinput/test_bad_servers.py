"""Bad servers (issue 15): trickling, huge and non-ComfyUI answers, echoed secrets — as `status` shows them.

Every server is a simulator on 127.0.0.1 with one fault of `sim/faults.py`; every call is bounded
(route deadlines shortened for the test where the real ones would take tens of seconds).
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

from nuke_comfyui.cli.main import main
from nuke_comfyui.core import redact
from nuke_comfyui.core.comfy import http
from nuke_comfyui.sim.faults import HttpFaults

pytestmark = pytest.mark.integration
TOKEN = "tok-3f9a8c1e-secret"
PASSWORD = "hunter2-password"


@pytest.fixture(autouse=True)
def _no_secrets_left_over() -> Any:
    yield
    redact.forget_all()


def _config(tmp_path: Path, url: str, auth: Optional[Dict[str, Any]] = None) -> Path:
    server: Dict[str, Any] = {"name": "bad", "url": url}
    if auth is not None:
        server["auth"] = auth
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"servers": [server]}))
    return path


def _status_row(tmp_path: Path, url: str, capsys: pytest.CaptureFixture,
                auth: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    assert main(["status", "--json", "--config", str(_config(tmp_path, url, auth))]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1
    row: Dict[str, Any] = rows[0]
    return row


def test_a_trickling_body_ends_at_the_route_deadline(sim_cluster: Any, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = sim_cluster(1)
    cluster.servers[0].options.faults = HttpFaults(trickle_s=0.2)  # /queue's ~40 bytes would take 8 s
    monkeypatch.setattr(http, "ROUTE_LIMITS", [("/queue", http.RouteLimits(http.MB, 1.0))])
    row = _status_row(tmp_path, cluster.urls[0], capsys)  # the message below proves the deadline cut it
    assert row["state"] == "offline"
    assert row["error"] == (f"cannot reach {cluster.urls[0]}: GET /queue: {cluster.urls[0]} did not finish its "
                            "answer within 1 s (it sends too slowly or stalls); the server may be overloaded, "
                            "or a proxy is holding the answer")


def test_a_huge_answer_is_refused_without_reading_it_all(sim_cluster: Any, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = sim_cluster(1)
    cluster.servers[0].options.faults = HttpFaults(huge_mb=3)
    monkeypatch.setattr(http, "ROUTE_LIMITS", [("/queue", http.RouteLimits(http.MB, 20.0))])
    row = _status_row(tmp_path, cluster.urls[0], capsys)
    assert row["state"] == "error"
    assert row["error"] == (f"{cluster.urls[0]} does not answer like ComfyUI: GET /queue: {cluster.urls[0]} sent "
                            "3 MB, more than the 1 MB a ComfyUI answer to this route can be; is it really a "
                            "ComfyUI server (or a proxy answering for it)?")


def test_the_real_route_limits_fit_what_each_route_fetches() -> None:
    assert http.limits_for("/object_info").max_bytes == 128 * http.MB
    assert http.limits_for("/api/object_info").max_bytes == 128 * http.MB
    assert http.limits_for("/prompt").max_bytes == http.MB
    assert http.limits_for("/queue").deadline_s == 20.0
    assert http.limits_for("/api/jobs/abc").max_bytes == 64 * http.MB
    assert http.limits_for("/history/abc?x=1").deadline_s == 30.0
    assert http.limits_for("/somewhere") == http.DEFAULT_LIMITS


def test_json_that_is_not_comfyui_is_an_error_not_an_empty_queue(sim_cluster: Any, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    cluster.servers[0].options.faults = HttpFaults(not_comfy=True)
    row = _status_row(tmp_path, cluster.urls[0], capsys)
    assert row["state"] == "error"
    assert row["error"] == (f"{cluster.urls[0]} does not answer like ComfyUI: GET /queue: the answer has no "
                            f"queue_running/queue_pending; is {cluster.urls[0]} really a ComfyUI server (or a "
                            "proxy answering for it)?")


@pytest.mark.parametrize("auth", [
    {"kind": "bearer", "token": TOKEN},
    {"kind": "basic", "username": "artist", "password": PASSWORD},
], ids=["bearer", "basic"])
def test_echoed_credentials_never_reach_the_table_or_the_log(sim_cluster: Any, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture,
                                                            caplog: pytest.LogCaptureFixture,
                                                            auth: Dict[str, Any]) -> None:
    cluster = sim_cluster(1)
    cluster.servers[0].options.faults = HttpFaults(echo_headers=True)
    basic = base64.b64encode(f"artist:{PASSWORD}".encode()).decode()
    secrets = [TOKEN, PASSWORD, basic, f"artist:{PASSWORD}"]
    config = _config(tmp_path, cluster.urls[0], auth)
    with caplog.at_level(logging.DEBUG):
        assert main(["-vv", "status", "--config", str(config)]) == 1
    out = capsys.readouterr()
    table = out.out + out.err
    assert "Authorization: ***" in table  # the echoed header is there, masked
    assert "HTTP 500" in table and "proxy error; request was:" in table
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in secrets:
        assert secret not in table
        assert secret not in logged
    assert len(table.splitlines()[1]) < 600  # the quoted body is cut short (see test_redact.py)


HOSTILE_NAMES = ["../../x.png", "/tmp/x.png", "C:\\x.png"]


@pytest.mark.parametrize("transfer", ["upload", "shared"])
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["climbs-out", "absolute", "drive-letter"])
def test_hostile_output_names_make_the_server_misbehaving_in_both_modes(
        sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture, transfer: str, name: str) -> None:
    cluster = sim_cluster(1)
    server = cluster.servers[0]
    server.options.faults = HttpFaults(output_name=name)
    entry: Dict[str, Any] = {"name": "bad", "url": cluster.urls[0]}
    if transfer == "shared":
        root = str(server.base_dir)
        entry.update(transfer="shared", dir_local=root, dir_remote=root)
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [entry]}))
    before = sorted(p for p in tmp_path.parent.rglob("x.png"))
    workflow = Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json"
    out = tmp_path / "out"
    assert main(["render", str(workflow), "--output", str(out), "--config", str(config),
                 "--journal", str(tmp_path / "j.sqlite3"), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    error = summary["jobs"][0]["error"]
    assert (f"server bad is misbehaving: server sent a filename with a path in it ({name!r}); refusing to "
            "write it; nothing was fetched or written") in error
    assert sorted(p for p in tmp_path.parent.rglob("x.png")) == before  # nothing written anywhere
    assert [p for p in out.rglob("*") if p.is_file() and p.suffix == ".png"] == []
