"""A password in a server URL's userinfo (issue 28, item 7).

Before: `http://artist:pw@host` was printed in the `status` table, in `status --json` (`url` and
`error`) and in every "cannot reach" message. Now the user and password become the server's basic
auth when the settings load (with a warning), the URL is shown without them everywhere, and any
URL's userinfo in a message is masked as tokens are.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from nuke_comfyui.cli.main import main
from nuke_comfyui.core import redact
from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.config_loader import load_config

pytestmark = pytest.mark.integration
PASSWORD = "s3cret-pw"


@pytest.fixture(autouse=True)
def _no_secrets_left_over() -> Any:
    yield
    redact.forget_all()


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_userinfo(url: str) -> str:
    return url.replace("http://", f"http://artist:{PASSWORD}@")


def test_status_never_shows_the_password(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture,
                                         caplog: pytest.LogCaptureFixture) -> None:
    cluster = sim_cluster(1)
    dead = f"http://127.0.0.1:{_dead_port()}"
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": "up", "url": _with_userinfo(cluster.urls[0])},
                                              {"name": "down", "url": _with_userinfo(dead)}]}))
    with caplog.at_level(logging.DEBUG):
        assert main(["-vv", "status", "--json", "--config", str(config)]) == 0
        assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr()
    everything = out.out + out.err + "\n".join(r.getMessage() for r in caplog.records)
    assert PASSWORD not in everything
    rows = json.loads(out.out[: out.out.rindex("]") + 1])
    assert [row["url"] for row in rows] == [cluster.urls[0], dead]
    assert rows[1]["error"].startswith(f"cannot reach {dead} (connection refused)")
    assert "the url holds a user name and password; they are used as basic auth" in everything


def test_the_settings_move_userinfo_into_basic_auth(tmp_path: Path) -> None:
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": "a", "url": "https://artist:p%40ss@comfy.lan:8443/x"}]}))
    loaded = load_config(config, environ={})
    server = loaded.cluster.servers[0]
    assert server.url == "https://comfy.lan:8443/x" and server.base_url == "https://comfy.lan:8443/x"
    assert server.auth is not None and server.auth.kind == "basic"
    assert (server.auth.username, server.auth.password) == ("artist", "p@ss")
    assert any("holds a user name and password" in w and "p@ss" not in w for w in loaded.warnings)
    direct = ServerConfig(name="b", url="http://u:pw-direct@10.0.0.5:8188",
                          auth={"kind": "bearer", "token": "${TOKEN}"})
    assert direct.url == "http://10.0.0.5:8188" and direct.auth is not None and direct.auth.kind == "bearer"


def test_any_url_userinfo_in_a_message_is_masked() -> None:
    assert redact.redact("proxy http://me:hunter22@proxy.lan:3128 refused") == "proxy http://***@proxy.lan:3128 refused"
