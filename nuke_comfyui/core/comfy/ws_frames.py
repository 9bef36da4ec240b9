"""`GulpingWebSocket`: websocket-client's connection with a lean reader for the frames a server sends.

Why: a prompt brings about fifteen frames (one `executing` per node, status broadcasts, progress),
each a few hundred bytes. websocket-client reads every frame with two or three socket calls
(header, length, payload) and builds several objects per frame (ABNF, a continuation buffer, a
validation pass), about 7 µs of CPU per frame before any of it is used, and much more once the
threads of a busy client contend for the GIL. Here one socket read serves every frame it holds,
and a frame is parsed with two `int`s and a slice. websocket-client still does the handshake,
proxies, TLS, sending (pongs, the close reply) and shutting down.

What the reader enforces (RFC 6455 §5): no mask on frames from the server (§5.1), no RSV bits
(no extension is negotiated, §5.2), known opcodes only, control frames whole and at most 125
bytes (§5.5), continuation only inside a fragmented message and no new message inside one
(§5.4), 64-bit lengths with the top bit clear; a message over `MAX_MESSAGE` is refused. Each
breach raises `WebSocketProtocolException`, which ends the connection (the stream reconnects).
A ping is answered with a pong carrying its payload (§5.5.2), a close with a close (§5.5.1).
A socket timeout in the middle of a frame loses nothing: bytes are consumed only once a whole
frame is in.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

import websocket
from websocket import ABNF, WebSocketConnectionClosedException, WebSocketProtocolException

MAX_MESSAGE = 64 * 1024 * 1024  # far above any ComfyUI message; a bigger one is a broken server
_DATA = (ABNF.OPCODE_CONT, ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY)
_CONTROL = (ABNF.OPCODE_CLOSE, ABNF.OPCODE_PING, ABNF.OPCODE_PONG)


class GulpingWebSocket(websocket.WebSocket):
    """A WebSocket that reads its socket in large gulps and parses the frames out of memory.

    The handshake reads the socket directly, not through `_recv`, so nothing of it is swallowed.
    """

    GULP = 1 << 16

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gulp = bytearray()  # bytes read, not yet consumed from `_at` on
        self._at = 0
        self._message_op: Optional[int] = None  # opcode of a fragmented message being gathered
        self._parts: List[bytes] = []
        self._gathered = 0

    def _recv(self, bufsize: int) -> bytes:
        """websocket-client's own reads (a frame it parses itself) come out of the gulp too."""
        if self._at >= len(self._gulp):
            self._fill(1)
        chunk = bytes(self._gulp[self._at:self._at + bufsize])
        self._at += len(chunk)
        return chunk

    def recv_data(self, control_frame: bool = False) -> Tuple[int, bytes]:
        """(opcode, payload) of the next whole message; pings answered, as websocket-client does."""
        while True:
            fin, opcode, payload = self._next_frame()
            if opcode in _DATA:
                message = self._gather(fin, opcode, payload)
                if message is not None:
                    return message
            elif opcode == ABNF.OPCODE_CLOSE:
                self.send_close()
                return opcode, payload
            elif opcode == ABNF.OPCODE_PING:
                self.pong(payload)
                if control_frame:
                    return opcode, payload
            elif control_frame:  # a pong
                return opcode, payload

    def _gather(self, fin: bool, opcode: int, payload: bytes) -> Optional[Tuple[int, bytes]]:
        if opcode == ABNF.OPCODE_CONT:
            if self._message_op is None:
                raise WebSocketProtocolException("a continuation frame arrived outside a fragmented message")
        elif self._message_op is not None:
            raise WebSocketProtocolException("a new message began inside a fragmented one")
        elif fin:
            return opcode, payload  # the usual case: one frame, one message
        else:
            self._message_op, self._parts, self._gathered = opcode, [], 0
        self._gathered += len(payload)
        if self._gathered > MAX_MESSAGE:
            raise WebSocketProtocolException(f"a fragmented message grew past {MAX_MESSAGE} bytes")
        self._parts.append(payload)
        if not fin:
            return None
        whole = (self._message_op, b"".join(self._parts))
        self._message_op, self._parts, self._gathered = None, [], 0
        return whole

    def _next_frame(self) -> Tuple[bool, int, bytes]:
        """(fin, opcode, payload) of the next frame, read whole before anything is consumed."""
        self._fill(2)
        at = self._at
        first, second = self._gulp[at], self._gulp[at + 1]
        opcode = first & 0x0F
        if first & 0x70:
            raise WebSocketProtocolException("a frame has RSV bits set, but no extension was negotiated")
        if second & 0x80:
            raise WebSocketProtocolException("the server masked a frame (RFC 6455 5.1 forbids it)")
        if opcode not in _DATA and opcode not in _CONTROL:
            raise WebSocketProtocolException(f"a frame has the unknown opcode {opcode:#x}")
        length, head = second & 0x7F, 2
        if length == 126:
            self._fill(4)
            length, head = int.from_bytes(self._gulp[at + 2:at + 4], "big"), 4
        elif length == 127:
            self._fill(10)
            length, head = int.from_bytes(self._gulp[at + 2:at + 10], "big"), 10
            if length >> 63:
                raise WebSocketProtocolException("a frame length has its top bit set")
        fin = bool(first & 0x80)
        if opcode in _CONTROL and (length > 125 or not fin):
            raise WebSocketProtocolException("a control frame is fragmented or longer than 125 bytes")
        if length > MAX_MESSAGE:
            raise WebSocketProtocolException(f"a frame of {length} bytes is more than {MAX_MESSAGE}")
        self._fill(head + length)
        start = self._at + head
        with memoryview(self._gulp) as view:
            payload = bytes(view[start:start + length])
        self._at = start + length
        return fin, opcode, payload

    def _fill(self, need: int) -> None:
        """At least `need` unread bytes in the gulp (reads block, time out or raise on a close).

        Consumed bytes are dropped before a read, so the buffer holds about one gulp plus the
        frame being gathered, and a large frame grows it in place rather than by copies.
        """
        while len(self._gulp) - self._at < need:
            if self._at:
                del self._gulp[:self._at]
                self._at = 0
            chunk = super()._recv(max(self.GULP, need - len(self._gulp)))
            if not chunk:
                raise WebSocketConnectionClosedException("the connection closed mid-frame")
            self._gulp += chunk
