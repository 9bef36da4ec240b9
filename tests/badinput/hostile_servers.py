"""Small hostile servers on 127.0.0.1, written with raw sockets: they do what aiohttp cannot be
made to do (trickle a status line, record a handshake's raw header lines).

Each serves every connection on its own daemon thread until `close()`; nothing here is a
ComfyUI server, they are the broken proxies and stalled machines a farm meets.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import List, Optional


class RawServer:
    """Accepts connections and hands each to `serve(conn)` on its own thread."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: List[bytes] = []  # the raw head of every request received
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="hostile-accept", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), name="hostile-conn", daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with contextlib.closing(conn):
            head = _read_head(conn)
            if head is None:
                return
            self.requests.append(head)
            with contextlib.suppress(OSError):
                self.serve(conn, head)

    def serve(self, conn: socket.socket, head: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._closed.set()
        self._sock.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TrickleHeadServer(RawServer):
    """Answers with a status line and headers that never end, one byte every `every_s` seconds."""

    def __init__(self, every_s: float = 0.05) -> None:
        self.every_s = every_s
        super().__init__()

    def serve(self, conn: socket.socket, head: bytes) -> None:
        text = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: "
        i = 0
        while not self._closed.is_set():
            conn.sendall(text[i:i + 1] if i < len(text) else b"a")
            i += 1
            time.sleep(self.every_s)


def _read_head(conn: socket.socket, limit: int = 65536) -> Optional[bytes]:
    data = b""
    conn.settimeout(10.0)
    while b"\r\n\r\n" not in data:
        try:
            chunk = conn.recv(4096)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
        if len(data) > limit:
            return None
    return data.split(b"\r\n\r\n", 1)[0]


class TLSServer(RawServer):
    """HTTPS with a self-signed certificate for 127.0.0.1 (made with openssl by the test), answering
    every request with an empty JSON queue."""

    def __init__(self, certfile: str, keyfile: str) -> None:
        import ssl

        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(certfile, keyfile)
        super().__init__()
        self.url = f"https://127.0.0.1:{self.port}"

    def _run(self, conn: socket.socket) -> None:
        try:
            conn = self._context.wrap_socket(conn, server_side=True)
        except OSError:  # the client refused our certificate, as it should
            conn.close()
            return
        super()._run(conn)

    def serve(self, conn: socket.socket, head: bytes) -> None:
        body = b'{"queue_running": [], "queue_pending": []}'
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
