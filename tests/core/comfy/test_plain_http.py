"""The lean transport (core/comfy/plain_http.py, plain_body.py) against scripted HTTP/1.1 servers.

FakeServer (http.server) covers what a request looks like; a raw-socket server on 127.0.0.1
scripts the framing cases http.server cannot produce: chunked bodies with trailers, bodies read
until close, connections kept or dropped, broken heads and bodies, and answers that never come.
Section numbers are RFC 9112's unless said otherwise.
"""

from __future__ import annotations

import gzip
import socket
import threading
import zlib
from typing import Any, List, Optional, Tuple

import pytest
import requests
import urllib3
from comfykit import server_config
from fake_http import FakeServer, json_answer

from nuke_comfyui.core.comfy import http
from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.comfy.plain_http import PlainPool
from nuke_comfyui.core.comfy.transport import Transport
from nuke_comfyui.core.errors import ServerUnavailable

Reply = Tuple[bytes, str]  # bytes to send, then "keep" the connection, "close" it or "hang" (never answer)


class ScriptedServer:
    """Answers each request with the next scripted reply; counts connections and keeps requests."""

    def __init__(self, *replies: Reply) -> None:
        self.replies: List[Reply] = list(replies)
        self.connections = 0
        self.requests: List[bytes] = []
        self.closed = threading.Event()  # set each time the server closes a connection
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    more = conn.recv(65536)
                    if not more:
                        return
                    data += more
                head, _, data = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(data) < length:
                    data += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + data[:length])
                data = data[length:]
                with self._lock:
                    reply, then = self.replies.pop(0) if self.replies else (b"", "close")
                conn.sendall(reply)
                if then == "hang":
                    self._stop.wait(30)
                if then != "keep":
                    break
        self.closed.set()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


@pytest.fixture
def scripted() -> Any:
    servers: List[ScriptedServer] = []

    def make(*replies: Reply) -> ScriptedServer:
        servers.append(ScriptedServer(*replies))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def ok(body: bytes = b"{}", extra: str = "", version: str = "HTTP/1.1") -> bytes:
    return f"{version} 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def assert_connection_reused(response: Any, transport: Transport, server: Any, next_body: bytes) -> None:
    """After `response` is closed, the next call gets `next_body` over the same connection."""
    response.close()
    assert get(transport) == next_body
    assert server.connections == 1


def get(transport: Transport, path: str = "/queue", timeout: Tuple[float, float] = (3.0, 5.0)) -> bytes:
    response = transport.request("GET", path, timeout=timeout)
    try:
        return response.content
    finally:
        response.close()


def test_direct_http_uses_the_lean_pool_https_and_proxies_stay_on_urllib3(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only plain http:// reached directly goes the lean way; TLS and proxies keep urllib3's pools."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(Transport("http://127.0.0.1:1")._pool, PlainPool)
    assert isinstance(Transport("https://127.0.0.1:1")._pool, urllib3.HTTPSConnectionPool)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:2")
    assert isinstance(Transport("http://10.9.8.7:1")._pool, urllib3.ProxyManager)


def test_request_head_host_length_and_never_an_origin(fake_server: FakeServer) -> None:
    """Host as in the URL (RFC 9110 section 7.2), Content-Length: 0 on a body-less POST, and no
    Origin even when configured (ComfyUI 403s a mismatched one); the transport's headers go along."""
    fake_server.routes[("POST", "/interrupt")] = json_answer({})
    transport = Transport(fake_server.url, headers={"Authorization": "Bearer t0k", "Origin": "http://evil"})
    transport.request("POST", "/interrupt").close()
    sent = {k.lower(): v for k, v in fake_server.requests[-1].headers.items()}
    assert sent["host"] == fake_server.url.split("//")[1]
    assert sent["content-length"] == "0"
    assert sent["authorization"] == "Bearer t0k"
    assert sent["user-agent"] == "nuke-comfyui"
    assert "origin" not in sent


def test_keep_alive_connection_is_reused(scripted: Any) -> None:
    """HTTP/1.1 connections persist unless told otherwise (section 9.3): three calls, one socket."""
    server = scripted(*[(ok(b'{"n": %d}' % i), "keep") for i in range(3)])
    transport = Transport(server.url)
    assert [get(transport) for _ in range(3)] == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
    assert server.connections == 1


@pytest.mark.parametrize(("reply", "reused"), [
    (ok(extra="Connection: close\r\n"), False),  # section 9.6
    (ok(version="HTTP/1.0"), False),  # section 9.3: HTTP/1.0 persists only with keep-alive
    (ok(version="HTTP/1.0", extra="Connection: keep-alive\r\n"), True),
])
def test_connection_close_and_http_1_0_are_not_reused(scripted: Any, reply: bytes, reused: bool) -> None:
    """The server keeps its socket open here, so only the header decides whether it is reused."""
    server = scripted((reply, "keep"), (ok(), "keep"))
    transport = Transport(server.url)
    get(transport)
    get(transport)
    assert server.connections == (1 if reused else 2)


def test_chunked_body_with_trailers_then_reuse(scripted: Any) -> None:
    """Chunked coding with extensions and a trailer section (section 7.1) is read to its end and the
    connection goes back to the pool."""
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n")
    server = scripted((chunked, "keep"), (ok(b"next"), "keep"))
    transport = Transport(server.url)
    assert get(transport) == b"hello world"
    assert get(transport) == b"next"
    assert server.connections == 1


def test_body_without_length_is_read_until_close_and_not_reused(scripted: Any) -> None:
    """No Content-Length nor Transfer-Encoding: the body ends when the server closes (section 6.3 item 8)."""
    server = scripted((b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it, up to EOF", "close"),
                      (ok(b"again"), "keep"))
    transport = Transport(server.url)
    assert get(transport) == b"all of it, up to EOF"
    assert get(transport) == b"again"
    assert server.connections == 2


@pytest.mark.parametrize("status", [b"204 No Content", b"304 Not Modified"])
def test_no_body_statuses_and_interim_answers(scripted: Any, status: bytes) -> None:
    """204 and 304 end at their head (section 6.3 item 1), a 1xx interim answer is skipped (RFC 9110
    section 15.2): the next answer on the same connection is read correctly."""
    server = scripted((b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 " + status + b"\r\nContent-Length: 7\r\n\r\n", "keep"),
                      (ok(b"after"), "keep"))
    transport = Transport(server.url)
    response = transport.request("GET", "/x")
    assert response.status_code == int(status[:3])
    assert response.content == b""
    assert_connection_reused(response, transport, server, b"after")


def test_head_answer_has_no_body(scripted: Any) -> None:
    """A HEAD answer's Content-Length names the GET body's size; no body follows (section 6.3 item 1)."""
    server = scripted((b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", "keep"), (ok(b"body"), "keep"))
    transport = Transport(server.url)
    response = transport.request("HEAD", "/view")
    assert response.headers.get("content-length") == "5000"
    assert response.content == b""
    assert_connection_reused(response, transport, server, b"body")


def test_a_server_dropped_idle_connection_is_detected_and_replaced(scripted: Any) -> None:
    """The server says keep-alive, then closes the idle socket (aiohttp does after ~75 s): the poll
    before reuse sees EOF, so the next call opens a new connection instead of failing."""
    server = scripted((ok(b"first"), "close"), (ok(b"second"), "keep"))
    transport = Transport(server.url)
    assert get(transport) == b"first"
    assert server.closed.wait(5)  # set after close(): on loopback the FIN is in our socket by then
    assert get(transport) == b"second"
    assert server.connections == 2


def test_close_drops_pooled_connections_and_later_calls_reconnect(scripted: Any) -> None:
    """Transport.close() closes what is pooled (like requests' Session.close); the next call reconnects."""
    server = scripted((ok(b"1"), "keep"), (ok(b"2"), "keep"))
    transport = Transport(server.url)
    assert get(transport) == b"1"
    transport.close()
    assert get(transport) == b"2"
    assert server.connections == 2


def test_gzip_and_deflate_bodies_are_decoded(scripted: Any) -> None:
    """Content-Encoding (RFC 9110 section 8.4.1): gzip, deflate as zlib data, and raw deflate."""
    text = b'{"queue_running": [], "queue_pending": []}' * 50
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    encodings = [("gzip", gzip.compress(text)), ("deflate", zlib.compress(text)),
                 ("deflate", raw.compress(text) + raw.flush())]
    server = scripted(*[(ok(data, f"Content-Encoding: {name}\r\n"), "keep") for name, data in encodings])
    transport = Transport(server.url)
    assert [get(transport) for _ in encodings] == [text, text, text]
    assert server.connections == 1


@pytest.mark.parametrize(("head", "problem"), [
    (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 900) for i in range(90)) + b"\r\n",
     "over 65536 bytes"),
    (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n", "more than 100 header"),
    (b"HTTP/1.1 200 OK\r\nX-Pad: " + b"p" * 70000, "over 65536 bytes"),  # never ends
    (b"HTTX/1.1 200 OK\r\n\r\n", "malformed status line"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", "malformed status line"),
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "malformed status line"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello", "bad Content-Length"),  # section 6.3 item 5
    (b"HTTP/1.1 200 O", "RemoteDisconnected"),  # EOF before a full status line
])
def test_broken_heads_are_connection_errors_naming_the_problem(scripted: Any, head: bytes, problem: str) -> None:
    """Heads over the caps or not HTTP/1.x (sections 4, 5) are ConnectionErrors, as on urllib3."""
    server = scripted((head, "close"))
    with pytest.raises(requests.exceptions.ConnectionError, match=problem):
        Transport(server.url).request("GET", "/queue")


@pytest.mark.parametrize("reply", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b",  # section 8: an incomplete message
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",  # ends inside a chunk
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",  # bad chunk-size
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",  # no CRLF after the data
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!",
])
def test_a_broken_body_is_chunked_encoding_error_and_server_unavailable(scripted: Any, reply: bytes) -> None:
    """A body cut short or badly framed fails in iter_content, and the client calls it a break-off."""
    server = scripted((reply, "close"), (reply, "close"))
    response = Transport(server.url).request("GET", "/queue")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        b"".join(response.iter_content(1024))
    response.close()
    with pytest.raises(ServerUnavailable, match="broke off"):
        ComfyClient(server_config(server.url)).queue()


def test_no_answer_within_the_read_timeout(scripted: Any) -> None:
    """A server that takes the request and never answers: ReadTimeout, then the client's ServerUnavailable."""
    server = scripted((b"", "hang"), (b"", "hang"))
    with pytest.raises(requests.exceptions.ReadTimeout):
        Transport(server.url).request("GET", "/queue", timeout=(3.0, 0.2))
    with pytest.raises(ServerUnavailable, match="got no answer"):
        ComfyClient(server_config(server.url), read_timeout=0.2).queue()


def test_a_refused_connection_is_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(requests.exceptions.ConnectionError, match="refused"):
        Transport(f"http://127.0.0.1:{port}").request("GET", "/queue")


def test_the_watchdog_cuts_a_stalled_lean_body(scripted: Any) -> None:
    """http.py's watchdog finds the lean response's socket (`raw.connection.sock`) and cuts it, so a
    body that stalls half-way ends at the call's deadline instead of the socket timeout."""
    server = scripted((b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome", "hang"))
    response = Transport(server.url).request("GET", "/queue", timeout=(3.0, 30.0))
    sock: Optional[socket.socket] = response.raw.connection.sock
    assert isinstance(sock, socket.socket)
    call = http.Call("GET /queue", server.url, "s1", http.RouteLimits(1 << 20, 0.3))
    call.watch(response)
    with pytest.raises(ServerUnavailable, match="did not finish"):
        call.read_body(response)


def test_bare_lf_heads_are_read(scripted: Any) -> None:
    """A recipient may take a bare LF as a line end (section 2.2); some small servers send them."""
    server = scripted((b"HTTP/1.1 200 OK\nContent-Length: 4\nX-A: 1\n\nbody", "keep"), (ok(b"next"), "keep"))
    transport = Transport(server.url)
    response = transport.request("GET", "/queue")
    assert response.headers.get("X-A") == "1"
    assert response.content == b"body"
    assert_connection_reused(response, transport, server, b"next")


def test_a_header_with_a_line_break_is_refused_before_sending(scripted: Any) -> None:
    """A configured header value holding CR/LF would inject header lines (RFC 9110 section 5.5)."""
    server = scripted((ok(), "keep"))
    with pytest.raises(requests.exceptions.InvalidHeader):
        Transport(server.url, headers={"Authorization": "Bearer x\r\nX-Evil: 1"}).request("GET", "/queue")
    assert server.requests == []
