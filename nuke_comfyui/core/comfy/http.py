"""The request/response machinery under `ComfyClient`: a total deadline and a size cap per call.

Why: `requests` only bounds each socket read, so a server (or proxy) that trickles its body one
byte at a time keeps a call alive for ever, and an answer of any size is read into memory. Here
every call has a route-specific budget (`RouteLimits`): `/object_info` may be large and slow,
`/prompt` and `/queue` answers are small and quick. Bodies are streamed and counted; a call
whose deadline passes has its connection cut by one watchdog thread, so even a read blocked on
a trickle ends on time. Errors name the route, the server and the limit.

The deadline covers the whole call, head included: the watchdog is armed before the request is
sent, and each transport hands the socket it uses to the call of its thread (`attach_socket`:
the lean pool when it takes a connection, urllib3's connections when they wait for the answer),
so a status line and headers trickled one byte a second are cut like a trickled body.

A ServerUnavailable for a missed deadline lets the pool treat the server as unreachable (and the
scheduler send the job elsewhere); an oversized answer is a ProtocolError: it is not ComfyUI.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional, Tuple

import requests

from nuke_comfyui.core.errors import ProtocolError, ServerUnavailable

MB = 1 << 20
_CHUNK = 1 << 16


@dataclass(frozen=True)
class RouteLimits:
    """What one call to a route may cost: bytes of answer and seconds from request to last byte."""

    max_bytes: int
    deadline_s: float


#: first matching path prefix wins; documented in docs/BAD_INPUT.md
ROUTE_LIMITS: List[Tuple[str, RouteLimits]] = [
    ("/object_info", RouteLimits(128 * MB, 60.0)),  # every node class: tens of MB with many custom nodes
    ("/view", RouteLimits(4096 * MB, 600.0)),  # result files, streamed to disk, never held in memory
    ("/upload/", RouteLimits(1 * MB, 300.0)),  # a short answer, after sending a frame that may be large
    ("/history", RouteLimits(64 * MB, 30.0)),  # entries carry the whole prompt
    ("/jobs", RouteLimits(64 * MB, 30.0)),  # /api/jobs (the /api/ prefix is stripped first)
    ("/queue", RouteLimits(64 * MB, 20.0)),  # every pending item carries its prompt
    ("/prompt", RouteLimits(1 * MB, 30.0)),
    ("/system_stats", RouteLimits(1 * MB, 20.0)),
]
DEFAULT_LIMITS = RouteLimits(1 * MB, 30.0)


def limits_for(path: str) -> RouteLimits:
    """The budget of a call to `path` (query string ignored)."""
    route = path.split("?", 1)[0]
    if route.startswith("/api/"):
        route = route[4:]  # ComfyUI serves every route under /api/ too
    for prefix, limits in ROUTE_LIMITS:
        if route.startswith(prefix):
            return limits
    return DEFAULT_LIMITS


_CURRENT = threading.local()  # .call: the Call whose request this thread is sending


def attach_socket(sock: Any) -> None:
    """The transports call this with the socket a request of this thread goes over: the call's
    watchdog cuts it when the deadline passes (at once, if it already has)."""
    call: Optional[Call] = getattr(_CURRENT, "call", None)
    if call is not None and isinstance(sock, socket.socket):
        call.attach(sock)


class Call:
    """One request in flight: its deadline, its watchdog entry, and the body readers."""

    def __init__(self, what: str, base_url: str, server: str, limits: RouteLimits) -> None:
        self.what, self.base_url, self.server, self.limits = what, base_url, server, limits
        self.deadline = time.monotonic() + limits.deadline_s
        self.cut = False
        self._disarm: Optional[Callable[[], None]] = None
        self._sock: Optional[socket.socket] = None
        self._response: Any = None
        self._cut_lock = threading.Lock()

    def read_timeout(self, per_read: float) -> float:
        """The socket read timeout: never more than what is left of the deadline."""
        return max(0.05, min(per_read, self.deadline - time.monotonic()))

    def begin(self) -> None:
        """Arm the watchdog before the request goes out: the deadline covers the head too."""
        _CURRENT.call = self
        if self._disarm is None:
            self._disarm = _WATCHDOG.arm(self.deadline, self._cut)

    def attach(self, sock: socket.socket) -> None:
        with self._cut_lock:
            self._sock = sock
            late = self.cut
        if late:
            _shutdown_socket(sock)

    def _cut(self) -> None:
        with self._cut_lock:
            self.cut = True
            sock, response = self._sock, self._response
        if sock is not None:
            _shutdown_socket(sock)
        if response is not None:
            _shutdown(response)

    def watch(self, response: Any) -> None:
        """The head is in: from now on the watchdog also closes this response when time is up."""
        if getattr(_CURRENT, "call", None) is self:
            _CURRENT.call = None
        with self._cut_lock:
            self._response = response
            late = self.cut
        if late:
            _shutdown(response)
        if self._disarm is None:  # a caller that did not begin(): arm now (body-only deadline)
            self._disarm = _WATCHDOG.arm(self.deadline, self._cut)

    def done(self) -> None:
        if getattr(_CURRENT, "call", None) is self:
            _CURRENT.call = None
        if self._disarm is not None:
            self._disarm()
            self._disarm = None

    def read_body(self, response: Any) -> None:
        """Read the whole (capped) body into `response.content`; closes the response."""
        try:
            data = b"".join(self.iter_body(response))
            response._content = data  # what `.content` returns from now on
            response._content_consumed = True  # so close() keeps the connection
        finally:
            response.close()  # a body read to its end goes back to the pool; a broken one is dropped
            self.done()

    def iter_body(self, response: Any) -> Iterator[bytes]:
        """The body in chunks, stopping at the size cap and the deadline with a clear error."""
        cap = self.limits.max_bytes
        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > cap:
            raise self.too_large(int(announced))
        seen = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                seen += len(chunk)
                if seen > cap:
                    raise self.too_large(seen)
                if time.monotonic() > self.deadline:
                    raise self.too_slow()
                yield chunk
        except (requests.RequestException, OSError) as exc:
            if self.cut or time.monotonic() > self.deadline:
                raise self.too_slow() from None
            raise ServerUnavailable(f"{self.what}: the answer from {self.base_url} broke off ({_short(exc)})",
                                    self.server) from None
        if self.cut:
            raise self.too_slow()

    def too_slow(self) -> ServerUnavailable:
        return ServerUnavailable(
            f"{self.what}: {self.base_url} did not finish its answer within {self.limits.deadline_s:g} s "
            "(it sends too slowly or stalls); the server may be overloaded, or a proxy is holding the answer",
            self.server)

    def too_large(self, size: int) -> ProtocolError:
        return ProtocolError(
            f"{self.what}: {self.base_url} sent {_size(size)}, more than the {_size(self.limits.max_bytes)} "
            "a ComfyUI answer to this route can be; is it really a ComfyUI server (or a proxy answering "
            "for it)?", self.server)


class _Watchdog:
    """One daemon thread holding every armed deadline; it cuts a connection when its time is up."""

    IDLE_WAIT_S = 60.0

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: List[List[Any]] = []  # [deadline, sequence, cut or None]
        self._sequence = itertools.count()
        self._thread: Optional[threading.Thread] = None

    def arm(self, deadline: float, cut: Callable[[], None]) -> Callable[[], None]:
        entry: List[Any] = [deadline, next(self._sequence), cut]
        with self._cond:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="nuke-comfyui-http-deadlines",
                                                daemon=True)
                self._thread.start()
            if self._heap[0] is entry:  # only an earlier deadline changes the thread's wait: no
                self._cond.notify()  # wake-up per call (the usual call's deadline is not the earliest)

        def disarm() -> None:
            entry[2] = None

        return disarm

    def _run(self) -> None:
        while True:
            due: Optional[Callable[[], None]] = None
            with self._cond:
                while self._heap and self._heap[0][2] is None:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(self.IDLE_WAIT_S)
                    continue
                left = self._heap[0][0] - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                due = heapq.heappop(self._heap)[2]
            if due is not None:
                due()


_WATCHDOG = _Watchdog()


def arm_deadline(deadline: float, cut: Callable[[], None]) -> Callable[[], None]:
    """Call `cut` on the watchdog thread at `deadline` (time.monotonic()); returns the disarm."""
    return _WATCHDOG.arm(deadline, cut)


def _shutdown_socket(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _shutdown(response: Any) -> None:
    """Shut the response's socket down, so a read blocked on it returns at once."""
    raw = getattr(response, "raw", None)
    connection = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        _shutdown_socket(sock)
    with contextlib.suppress(Exception):  # closing from another thread may race the reader; best effort
        response.close()


def _size(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n} bytes"


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:160] + "..."
