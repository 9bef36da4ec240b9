"""Request headers from auth settings, on every transport (issue 28, items 3, 6 and 8).

Before: a token holding `\\r\\nX-Injected: yes` was refused on HTTP calls but the WebSocket upgrade
sent it as a header of its own; a token variable set but empty sent `Authorization: Bearer `
with nothing after it; and an upgrade answer trickled one byte at a time was never cut off.
Servers here are raw sockets on 127.0.0.1 that record what reaches them (hostile_servers.py).
"""

from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path

import pytest
from hostile_servers import RawServer, TrickleHeadServer

from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.comfy.events import EventStream
from nuke_comfyui.core.comfy.ws_connect import HandshakeTooSlow, open_websocket
from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.config_loader import load_config
from nuke_comfyui.core.errors import ConfigError

pytestmark = pytest.mark.integration
INJECTED = "tok-1234\r\nX-Injected: yes"


class Recorder(RawServer):
    """Records each request head and closes (no answer)."""

    def serve(self, conn: socket.socket, head: bytes) -> None:
        return


def _server(url: str) -> ServerConfig:
    return ServerConfig(name="proxy", url=url, auth={"kind": "bearer", "token": "${STUDIO_TOKEN}"})


def test_a_token_with_a_line_break_never_reaches_the_websocket_upgrade(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("STUDIO_TOKEN", INJECTED)
    with Recorder() as recorder, caplog.at_level(logging.ERROR):
        stream = EventStream(_server(recorder.url), lambda event: None, backoff_start=0.05).start()
        time.sleep(0.5)
        stream.stop()
    assert recorder.requests == []  # nothing was sent at all, so no injected header either
    assert ("proxy: event stream not opened: server 'proxy': the Authorization header built from its auth "
            "settings holds a line break or another control character; correct the token, user or password "
            "(or the environment variable it comes from)") in caplog.messages
    assert not any("tok-1234" in message for message in caplog.messages)


def test_a_token_with_a_line_break_is_a_config_error_for_http_calls_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_TOKEN", INJECTED)
    with Recorder() as recorder, pytest.raises(ConfigError) as caught:
        ComfyClient(_server(recorder.url)).queue()
    assert recorder.requests == []
    assert "holds a line break" in str(caught.value) and "tok-1234" not in str(caught.value)


def test_a_literal_token_with_a_line_break_is_refused_when_the_settings_load(tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"servers": [{"name": "a", "auth": {"kind": "bearer", "token": INJECTED}}]}))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(caught.value) == (f"file {path}: server 1 ('a'): field 'auth': the auth token holds a line break "
                                 "or another control character; write it on one line")


def test_a_token_variable_set_but_empty_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_TOKEN", "")
    with Recorder() as recorder, pytest.raises(ConfigError) as caught:
        ComfyClient(_server(recorder.url)).queue()
    assert recorder.requests == []  # never "Authorization: Bearer " with nothing after it
    assert str(caught.value) == ("server 'proxy' auth token is empty: ${STUDIO_TOKEN} is set but holds nothing; "
                                 "set it to the proxy's token, or remove the server's auth")


def test_a_trickled_websocket_upgrade_is_cut_at_its_deadline() -> None:
    with TrickleHeadServer(every_s=0.05) as trickler:
        started = time.monotonic()
        with pytest.raises(HandshakeTooSlow) as caught:
            open_websocket(f"ws://127.0.0.1:{trickler.port}/ws?clientId=x", timeout=3.0, deadline_s=1.0)
        assert time.monotonic() - started < 3.0
    assert str(caught.value) == (f"the WebSocket handshake with ws://127.0.0.1:{trickler.port}/ws did not finish "
                                 "within 1 s")
