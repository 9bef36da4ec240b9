"""A response head trickled one byte at a time is cut at the route's deadline (issue 28, item 3).

Before, the deadline watchdog was armed only once the head was in: a server (or proxy) sending
its status line and headers one byte every 50 ms kept a call alive for ever, since every read
succeeded ("status against such a server ran 500 s until killed"). Now the deadline covers the
head on both transports: the lean pool for direct http:// and urllib3 (here through a proxy).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from hostile_servers import TrickleHeadServer

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.comfy import http
from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.errors import ServerUnavailable

pytestmark = pytest.mark.integration


@pytest.fixture
def trickler(monkeypatch: pytest.MonkeyPatch) -> Iterator[TrickleHeadServer]:
    monkeypatch.setattr(http, "ROUTE_LIMITS", [("/queue", http.RouteLimits(http.MB, 1.0))])
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with TrickleHeadServer() as server:
        yield server


def _queue_bounded(client: ComfyClient, seconds: float) -> BaseException:
    """What client.queue() raised; the test fails (instead of hanging) if it runs past `seconds`."""
    found: Dict[str, BaseException] = {}

    def call() -> None:
        try:
            client.queue()
        except BaseException as exc:  # handed to the test thread
            found["error"] = exc

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"GET /queue on a trickled head did not end within {seconds:g} s"
    assert "error" in found, "a head that never ends cannot be an answer"
    return found["error"]


def test_the_lean_pool_cuts_a_trickled_head_at_the_deadline(trickler: TrickleHeadServer) -> None:
    client = ComfyClient(ServerConfig(name="slow", url=trickler.url), retries=0)
    started = time.monotonic()
    error = _queue_bounded(client, 10.0)
    assert time.monotonic() - started < 3.0
    assert isinstance(error, ServerUnavailable)
    assert str(error) == (f"slow: GET /queue: {trickler.url} did not finish its answer within 1 s (it sends too "
                          "slowly or stalls); the server may be overloaded, or a proxy is holding the answer")


def test_urllib3_through_a_proxy_cuts_a_trickled_head_at_the_deadline(trickler: TrickleHeadServer,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", trickler.url)  # the "proxy" trickles: urllib3's ProxyManager path
    client = ComfyClient(ServerConfig(name="slow", url="http://127.0.0.1:9"), retries=0)
    started = time.monotonic()
    error = _queue_bounded(client, 10.0)
    assert time.monotonic() - started < 3.0
    assert isinstance(error, ServerUnavailable)
    assert "did not finish its answer within 1 s" in str(error)
    assert trickler.requests and trickler.requests[0].startswith(b"GET http://127.0.0.1:9/queue ")


def test_status_against_a_trickled_head_ends(trickler: TrickleHeadServer, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": "slow", "url": trickler.url}]}))
    result: Dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(code=main(["status", "--json", "--config",
                                                                      str(config)])), daemon=True)
    thread.start()
    thread.join(30.0)
    assert not thread.is_alive(), "status did not end"
    assert result["code"] == 1
    row = json.loads(capsys.readouterr().out)[0]
    assert row["state"] == "offline" and "did not finish its answer within 1 s" in row["error"], row
