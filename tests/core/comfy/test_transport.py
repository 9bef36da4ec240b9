"""The client's transport honours what requests used to read from the environment, once per server.

A studio may route ComfyUI traffic through an HTTP proxy (HTTP_PROXY, with NO_PROXY exceptions)
or keep credentials in ~/.netrc; the keep-alive transport reads both when the client is made.
The "proxy" here is a scripted server on 127.0.0.1 that sees the absolute URL a proxy is sent.
"""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest
from comfykit import server_config
from fake_http import FakeServer, json_answer

from nuke_comfyui.core.comfy.client import ComfyClient


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_requests_go_through_the_environment_proxy(fake_server: FakeServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    target = f"http://127.0.0.1:{_unused_port()}"  # nothing listens: only the proxy can answer
    fake_server.routes[("GET", f"{target}/prompt")] = json_answer({"exec_info": {"queue_remaining": 3}})
    monkeypatch.setenv("HTTP_PROXY", fake_server.url)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    assert ComfyClient(server_config(target)).queue_remaining() == 3
    assert fake_server.requests[-1].path == f"{target}/prompt"


def test_no_proxy_hosts_are_reached_directly(fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_server.routes[("GET", "/prompt")] = json_answer({"exec_info": {"queue_remaining": 1}})
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_unused_port()}")  # a dead proxy
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert ComfyClient(server_config(fake_server.url)).queue_remaining() == 1


def test_netrc_credentials_are_sent(fake_server: FakeServer, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login artist password pa55\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    fake_server.routes[("GET", "/prompt")] = json_answer({"exec_info": {"queue_remaining": 0}})
    assert ComfyClient(server_config(fake_server.url)).queue_remaining() == 0
    headers = {k.lower(): v for k, v in fake_server.requests[-1].headers.items()}
    assert headers["authorization"] == "Basic " + base64.b64encode(b"artist:pa55").decode()


def test_a_closed_client_opens_a_new_connection(fake_server: FakeServer) -> None:
    fake_server.routes[("GET", "/prompt")] = json_answer({"exec_info": {"queue_remaining": 0}})
    client = ComfyClient(server_config(fake_server.url))
    client.close()
    assert client.queue_remaining() == 0
