"""Reading one HTTP/1.1 response body off a plain connection: the framing half of plain_http.py.

Why a module of its own: framing (RFC 9112 sections 6-7: Content-Length, chunked with trailers,
read-until-close) and content decoding are where a lean client can get things subtly wrong, so
they sit apart from the pool and the request/head code, each small enough to read in one go.
A body that breaks off, has bad chunk framing or bad gzip/deflate data is requests'
ChunkedEncodingError, a read timeout in the body a ConnectionError, as on the urllib3 path.
"""

from __future__ import annotations

import re
import select
import socket
import zlib
from typing import Any, Callable, Iterator, Mapping, Optional

from requests import exceptions as rex

MAX_HEAD_BYTES = 64 * 1024  # status line + headers (and, separately, a chunked body's trailers)
MAX_HEAD_LINES = 100
MAX_CHUNK_LINE = 4096  # chunk-size + chunk extensions
RECV = 64 * 1024
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")


class Headers(Mapping[str, str]):
    """Response headers, looked up case-insensitively; repeated fields joined with ", "."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, str]) -> None:
        self._fields = fields  # lower-cased names

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:  # the hot path: no KeyError round trip
        return self._fields.get(name.lower(), default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)


class Connection:
    """One socket and the bytes read past the last thing parsed; `sock` is what the watchdog cuts."""

    __slots__ = ("buf", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def fill(self) -> None:
        """Read more into `buf`; EOF raises EOFError (each caller names what broke off)."""
        data = self.sock.recv(RECV)
        if not data:
            raise EOFError
        self.buf += data

    def line(self, limit: int) -> bytes:
        """One line without its CRLF (a bare LF is accepted too, RFC 9112 section 2.2)."""
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line, self.buf = self.buf[:end], self.buf[end + 1:]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self.buf) > limit:
                raise ValueError(f"a line longer than {limit} bytes")
            self.fill()

    def dropped(self) -> bool:
        """Is this idle connection unusable? Readable while idle means EOF or stray bytes."""
        if self.buf or self.sock.fileno() < 0:
            return True
        try:
            if hasattr(select, "poll"):  # select() cannot watch fds above 1023; Nuke opens many
                poller = select.poll()
                poller.register(self.sock, select.POLLIN)
                return bool(poller.poll(0))
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        self.sock.close()


class PlainResponse:
    """One response whose head is in: `status`, `headers`, and the body through `stream`.

    The surface is the part of urllib3's HTTPResponse transport.Response uses, so one Response
    class wraps either backend, and http.py's watchdog finds the socket at `.connection.sock`.
    """

    def __init__(self, conn: Connection, status: int, headers: Headers, *, release: Callable[[Connection], None],
                 keep: bool, length: Optional[int], chunked: bool, no_body: bool) -> None:
        self.status, self.headers = status, headers
        self.connection: Optional[Connection] = conn
        self._release: Optional[Callable[[Connection], None]] = release
        self._keep, self._length, self._chunked = keep, length, chunked
        self._done = no_body  # the body was read to its end (framing-wise)

    def stream(self, chunk_size: int, decode_content: bool = True) -> Iterator[bytes]:
        """The body in pieces of at most `chunk_size`, inflated per Content-Encoding."""
        conn = self.connection
        if self._done or conn is None:
            return
        coding = self.headers.get("content-encoding", "").strip().lower() if decode_content else ""
        inflate = _Inflate(coding) if coding in ("gzip", "x-gzip", "deflate") else None
        try:
            if self._chunked:
                pieces = self._chunks(conn, chunk_size)
            elif self._length is not None:
                pieces = self._counted(conn, self._length, chunk_size)
            else:
                pieces = self._until_close(conn, chunk_size)
            for piece in pieces:
                if inflate is None:
                    yield piece
                else:
                    yield from inflate.feed(piece, chunk_size)
            if inflate is not None:
                yield from inflate.finish()
        except socket.timeout as exc:  # like urllib3's ReadTimeoutError in a body: a ConnectionError
            self.close()
            raise rex.ConnectionError(f"read timed out in the body: {exc}") from None
        except (OSError, EOFError, ValueError, zlib.error) as exc:  # cut, reset, bad framing or coding
            self.close()
            raise rex.ChunkedEncodingError(_broken(exc)) from None
        self._done = True

    @staticmethod
    def _counted(conn: Connection, left: int, chunk_size: int) -> Iterator[bytes]:
        """A Content-Length body (RFC 9112 section 6.2); fewer bytes than announced is an error."""
        while left:
            if not conn.buf:
                try:
                    conn.fill()
                except EOFError:
                    raise EOFError(f"the body ended {left} bytes short of its announced length") from None
            piece, conn.buf = conn.buf[:min(left, chunk_size)], conn.buf[min(left, chunk_size):]
            left -= len(piece)
            yield piece

    def _chunks(self, conn: Connection, chunk_size: int) -> Iterator[bytes]:
        """A chunked body (RFC 9112 section 7.1): size lines, data, CRLFs, then trailer fields."""
        while True:
            size_text = conn.line(MAX_CHUNK_LINE).split(b";", 1)[0].strip(b" \t")
            if not _HEX.fullmatch(size_text):
                raise ValueError(f"bad chunk size {size_text[:40]!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            yield from self._counted(conn, size, chunk_size)
            if conn.line(2):
                raise ValueError("chunk data not followed by CRLF")
        seen = 0
        for _ in range(MAX_HEAD_LINES + 1):  # trailer section (section 7.1.2): read, then dropped
            line = conn.line(MAX_HEAD_BYTES)
            seen += len(line)
            if not line:
                return
            if seen > MAX_HEAD_BYTES:
                break
        raise ValueError(f"trailers over {MAX_HEAD_BYTES} bytes or {MAX_HEAD_LINES} lines")

    def _until_close(self, conn: Connection, chunk_size: int) -> Iterator[bytes]:
        """No length given: the body is everything up to EOF (RFC 9112 section 6.3 item 8)."""
        self._keep = False
        while True:
            if not conn.buf:
                try:
                    conn.fill()
                except EOFError:
                    return
            piece, conn.buf = conn.buf[:chunk_size], conn.buf[chunk_size:]
            yield piece

    def close(self) -> None:
        """Drop the connection (the body was not, or could not be, read to its end)."""
        self._keep = False
        conn, self.connection = self.connection, None
        if conn is not None:
            conn.close()

    def release_conn(self) -> None:
        """Back to the pool if the body was read to its end and the server keeps it alive."""
        conn, release, self.connection, self._release = self.connection, self._release, None, None
        if conn is None or release is None:
            return
        if self._done and self._keep and not conn.buf:
            release(conn)
        else:
            conn.close()


class _Inflate:
    """gzip or deflate decoding with bounded output per piece (a small bomb stays small in memory)."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._zlib: Any = None
        self._pending = b""

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        if self._zlib is None:
            self._pending += data
            if len(self._pending) < 2:
                return
            data, self._pending = self._pending, b""
            wbits = 16 + zlib.MAX_WBITS
            if self._coding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send
                wbits = zlib.MAX_WBITS if (data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0) \
                    else -zlib.MAX_WBITS
            self._zlib = zlib.decompressobj(wbits)
        while data:
            out = self._zlib.decompress(data, limit)
            data = self._zlib.unconsumed_tail
            if out:
                yield out

    def finish(self) -> Iterator[bytes]:
        if self._pending:
            raise zlib.error("a compressed body of less than two bytes")
        tail = self._zlib.flush() if self._zlib is not None else b""
        if tail:
            yield tail


def _broken(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return str(exc) or "the connection closed in the middle of the body"
    return f"the body broke off: {type(exc).__name__}: {exc}"
