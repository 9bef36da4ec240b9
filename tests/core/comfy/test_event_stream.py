"""EventStream mechanics without a ComfyUI: handshake headers, backoff while down, prompt stop()."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, List

from comfykit import FakeAuth, server_config, wait_for

from nuke_comfyui.core.comfy.events import EventStream


class HandshakeRecorder:
    """Accepts TCP connections on 127.0.0.1, records each HTTP upgrade request, then hangs up."""

    def __init__(self) -> None:
        self.requests: List[str] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1.0)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data.decode("latin-1"))
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


def test_handshake_sends_auth_and_a_fresh_client_id_per_attempt_and_no_origin() -> None:
    recorder = HandshakeRecorder()
    events: List[Any] = []
    auth = FakeAuth({"Authorization": "Bearer tok"})
    config = server_config(f"http://127.0.0.1:{recorder.port}", auth=auth)
    stream = EventStream(config, events.append, backoff_start=0.01, backoff_cap=0.05).start()
    try:
        wait_for(lambda: len(recorder.requests) >= 2, what="two handshake attempts")
    finally:
        stream.stop()
        recorder.close()
    first, second = recorder.requests[:2]
    assert "GET /ws?clientId=" in first
    lowered = first.lower()
    assert "authorization: bearer tok" in lowered
    assert "\norigin:" not in lowered
    client_ids = [r.split("clientId=", 1)[1].split()[0] for r in (first, second)]
    assert client_ids[0] != client_ids[1] and all(len(c) == 32 for c in client_ids)
    assert events == []  # never connected: no Connected/Disconnected noise


def test_stop_is_prompt_while_the_server_is_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stream = EventStream(server_config(f"http://127.0.0.1:{port}"), lambda e: None, backoff_cap=5.0).start()
    time.sleep(0.3)  # let the backoff grow past a few attempts
    started = time.monotonic()
    stream.stop()
    assert time.monotonic() - started < 2.0
    assert stream._thread is None


def test_stop_is_prompt_while_connected(sim_cluster: Any) -> None:
    cluster = sim_cluster(1)
    events: List[Any] = []
    stream = EventStream(server_config(cluster.urls[0]), events.append, poll_interval=30.0).start()
    wait_for(lambda: stream.connected, what="connected")
    started = time.monotonic()
    stream.stop()
    assert time.monotonic() - started < 2.0
    assert type(events[-1]).__name__ == "Disconnected" and events[-1].reason == "stopped"


def test_a_failing_handler_does_not_kill_the_stream(sim_cluster: Any) -> None:
    cluster = sim_cluster(1)
    seen: List[Any] = []

    def handler(event: Any) -> None:
        seen.append(event)
        raise RuntimeError("consumer bug")

    with EventStream(server_config(cluster.urls[0]), handler) as stream:
        wait_for(lambda: len(seen) >= 2, what="events after a failing handler")  # Connected, then status
        assert stream.connected
