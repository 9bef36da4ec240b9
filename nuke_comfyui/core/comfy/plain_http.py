"""`PlainPool`: a lean HTTP/1.1 keep-alive client for plain `http://` servers reached directly.

Why: against a near-instant ComfyUI, urllib3 cost about 0.3 ms of CPU per call, most of it in
http.client's email-based header parsing and urllib3's layers; a raw socket with hand parsing
costs a tenth of that. A job makes two calls and the pool probes every server twice a second,
so the transport (core/comfy/transport.py) uses this for `http://` URLs no proxy applies to;
TLS and proxies stay on urllib3, which does them well.

What it does, and no more (RFC 9112; the body side is in plain_body.py): one request per
connection at a time, Content-Length or chunked bodies (trailers read and dropped),
read-until-close, no body for HEAD/1xx/204/304, gzip/deflate decoding, connections kept per
`Connection` and HTTP version, and a readability poll before reusing an idle one (the server
closes idle keep-alive connections: aiohttp after ~75 s).
Errors are requests' types with the same meaning as on the urllib3 path. Never retries or
follows redirects: the client decides.
"""

from __future__ import annotations

import re
import socket
import threading
from typing import Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import quote

from requests import exceptions as rex

from nuke_comfyui.core.comfy.http import attach_socket
from nuke_comfyui.core.comfy.plain_body import MAX_HEAD_BYTES, MAX_HEAD_LINES, RECV, Connection, Headers, PlainResponse
from nuke_comfyui.core.comfy.upload_body import MultipartStream

_UNSAFE_TARGET = re.compile(r"[^\x21-\x7e]")  # as urllib3 does: percent-encode, never send raw

Body = Union[bytes, MultipartStream]  # a stream's file part goes by sendfile, its length known


class PlainPool:
    """Keep-alive connections to one `host:port`, thread-safe: at most `maxsize` idle, LIFO."""

    def __init__(self, host: str, port: int, host_header: str, maxsize: int) -> None:
        self.host, self.port, self.host_header, self.maxsize = host, port, host_header, maxsize
        self._idle: List[Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def request(self, method: str, target: str, headers: Mapping[str, str], body: Optional[Body],
                timeout: Tuple[float, float]) -> PlainResponse:
        """Send one request; return once the response head is in (the body is not read)."""
        if _UNSAFE_TARGET.search(target):
            target = _UNSAFE_TARGET.sub(lambda m: quote(m.group()), target)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host_header}"]
        for name, value in headers.items():
            low = name.lower()
            if low == "host":  # a configured Host wins over the URL's
                lines[1] = f"Host: {value}"
            elif low not in ("origin", "content-length"):  # never an Origin: ComfyUI 403s a mismatch
                lines.append(f"{name}: {value}")
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body) if body is not None else 0}")
        text = "\r\n".join(lines)
        if text.count("\n") != len(lines) - 1 or text.count("\r") != len(lines) - 1:
            raise rex.InvalidHeader("a request header holds a line break")  # no header injection
        head = (text + "\r\n\r\n").encode("latin-1")
        conn = self._connection(timeout[0])
        attach_socket(conn.sock)  # the call's deadline cuts it, head included (core/comfy/http.py)
        conn.sock.settimeout(timeout[1])
        try:
            return self._exchange(conn, method, head, body)
        except BaseException:
            conn.close()
            raise

    def _exchange(self, conn: Connection, method: str, head: bytes, body: Optional[Body]) -> PlainResponse:
        sent_error: Optional[OSError] = None
        try:
            if body is not None and not isinstance(body, bytes):  # a file from disk: sendfile (upload_body)
                body.send_to(conn.sock, head)
            elif body and len(body) > RECV:  # a large upload: no copy to glue it onto the head
                conn.sock.sendall(head)
                conn.sock.sendall(body)
            else:
                conn.sock.sendall(head + body if body else head)
        except socket.timeout as exc:
            raise rex.ReadTimeout(f"sending to {self.host}:{self.port} timed out: {exc}") from None
        except OSError as exc:  # the server may have answered (413, 401) before it stopped reading
            sent_error = exc
        try:
            while True:
                status, version, fields = self._head(conn)
                if status >= 200 or status == 101:
                    break  # 1xx interim answers (section 4) carry no body: skip to the final one
        except socket.timeout as exc:
            raise rex.ReadTimeout(f"{self.host}:{self.port}: read timed out waiting for the answer "
                                  f"({exc})") from None
        except EOFError:
            raise rex.ConnectionError(
                f"Connection aborted: RemoteDisconnected, {self.host}:{self.port} closed the connection "
                f"without a complete answer{f' ({sent_error})' if sent_error else ''}") from None
        except (OSError, ValueError) as exc:
            raise rex.ConnectionError(f"Connection aborted: {self.host}:{self.port}: {exc}") from None
        tokens = fields.get("connection", "").lower()
        keep = "close" not in tokens and (version == "HTTP/1.1" or "keep-alive" in tokens) and not sent_error
        keep = keep and status != 101  # switched protocols: not HTTP any more
        no_body = method == "HEAD" or status < 200 or status in (204, 304)
        coding = fields.get("transfer-encoding", "").lower()
        length: Optional[int] = None
        chunked = bool(coding) and coding.rsplit(",", 1)[-1].strip() == "chunked"
        if coding:
            keep = keep and chunked and "content-length" not in fields  # section 6.1: both = suspect
        elif not no_body and "content-length" in fields:
            values = {v.strip() for v in fields["content-length"].split(",")}
            text = values.pop() if len(values) == 1 else ""
            if not text.isdigit():
                raise rex.ConnectionError(f"{self.host}:{self.port} sent a bad Content-Length "
                                          f"{fields['content-length'][:40]!r}")
            length = int(text)
        response = PlainResponse(conn, status, Headers(fields), release=self.put, keep=keep, length=length,
                                 chunked=chunked, no_body=no_body or length == 0)
        if no_body and conn.buf:
            response._keep = False  # bytes after a body-less answer: not a connection to reuse
        return response

    @staticmethod
    def _head(conn: Connection) -> Tuple[int, str, Dict[str, str]]:
        """Status line and header fields (RFC 9112 sections 4, 5), within the size and line caps."""
        while True:
            end = conn.buf.find(b"\r\n\r\n")
            bare = conn.buf.find(b"\n\n", 0, end if end >= 0 else len(conn.buf))  # bare LFs (section 2.2)
            if bare >= 0 or end >= 0:
                cut = bare + 2 if bare >= 0 else end + 4
                break
            if len(conn.buf) > MAX_HEAD_BYTES:
                raise ValueError(f"the status line and headers are over {MAX_HEAD_BYTES} bytes")
            conn.fill()
        if cut > MAX_HEAD_BYTES:
            raise ValueError(f"the status line and headers are over {MAX_HEAD_BYTES} bytes")
        text, conn.buf = conn.buf[:cut].decode("latin-1"), conn.buf[cut:]
        lines = (text.replace("\r\n", "\n") if "\r" in text else text).split("\n")
        if len(lines) > MAX_HEAD_LINES + 3:  # status line, fields, the empty line and what follows it
            raise ValueError(f"more than {MAX_HEAD_LINES} header lines")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or parts[0] not in ("HTTP/1.1", "HTTP/1.0") or not (
                len(parts[1]) == 3 and parts[1].isdigit()):
            raise ValueError(f"malformed status line {lines[0][:80]!r}")
        fields: Dict[str, str] = {}
        last = ""
        for line in lines[1:]:
            if not line:
                continue
            if line[0] in " \t" and last:  # obs-fold (section 5.2): joined with a space
                fields[last] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            name = name.lower()
            if not colon or not name or name != name.strip():
                raise ValueError(f"malformed header line {line[:80]!r}")
            value = value.strip(" \t")
            fields[name] = f"{fields[name]}, {value}" if name in fields else value
            last = name
        return int(parts[1]), parts[0], fields

    def _connection(self, connect_timeout: float) -> Connection:
        """The most recently used idle connection the server has not dropped, or a new one."""
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                break
            if not conn.dropped():
                return conn
            conn.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=connect_timeout)
        except socket.timeout as exc:
            raise rex.ConnectTimeout(f"connecting to {self.host}:{self.port} timed out ({exc})") from None
        except OSError as exc:
            raise rex.ConnectionError(f"Failed to establish a new connection to {self.host}:{self.port}: "
                                      f"{exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a request is one small write
        return Connection(sock)

    def put(self, conn: Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.maxsize:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close every idle connection; ones in use are closed when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
