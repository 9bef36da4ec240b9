"""The lean frame reader against crafted server bytes on a real socket pair (RFC 6455 section 5).

Each test writes the bytes a server would send into one end of `socket.socketpair()` and reads
them with `GulpingWebSocket.recv_data` on the other end, as EventStream does after its handshake.
"""

from __future__ import annotations

import socket
from typing import Iterator, Tuple

import pytest
from websocket import ABNF, WebSocketConnectionClosedException, WebSocketProtocolException, WebSocketTimeoutException

from nuke_comfyui.core.comfy.ws_frames import GulpingWebSocket

TEXT, BINARY, CONT = ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY, ABNF.OPCODE_CONT
CLOSE, PING, PONG = ABNF.OPCODE_CLOSE, ABNF.OPCODE_PING, ABNF.OPCODE_PONG


def frame(opcode: int, payload: bytes, *, fin: bool = True, first_extra: int = 0, masked: bool = False) -> bytes:
    """A server frame (unmasked unless asked), with the shortest length encoding (section 5.2)."""
    first = (0x80 if fin else 0) | first_extra | opcode
    mask = 0x80 if masked else 0
    n = len(payload)
    if n < 126:
        head = bytes([first, mask | n])
    elif n < 1 << 16:
        head = bytes([first, mask | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([first, mask | 127]) + n.to_bytes(8, "big")
    return head + (b"\0\0\0\0" if masked else b"") + payload


@pytest.fixture
def pair() -> Iterator[Tuple[GulpingWebSocket, socket.socket]]:
    ours, server = socket.socketpair()
    ours.settimeout(2.0)
    server.settimeout(2.0)
    ws = GulpingWebSocket(skip_utf8_validation=True, enable_multithread=True)
    ws.sock, ws.connected = ours, True
    yield ws, server
    ours.close()
    server.close()


def read_client_frame(server: socket.socket) -> Tuple[int, bytes]:
    """One frame the client sent (clients must mask, section 5.3): (opcode, unmasked payload)."""
    head = server.recv(2)
    length = head[1] & 0x7F
    key = server.recv(4)
    data = server.recv(length) if length else b""
    return head[0] & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(data))


def test_frames_arriving_together_come_out_one_message_each(pair) -> None:
    ws, server = pair
    big = b"x" * 70_000  # a 64-bit length
    mid = b"y" * 300  # a 16-bit length
    server.sendall(frame(TEXT, b'{"type": "status"}') + frame(BINARY, b"\x01\x02") + frame(TEXT, mid)
                   + frame(TEXT, big))
    assert ws.recv_data() == (TEXT, b'{"type": "status"}')
    assert ws.recv_data() == (BINARY, b"\x01\x02")
    assert ws.recv_data() == (TEXT, mid)
    assert ws.recv_data() == (TEXT, big)


def test_a_fragmented_message_is_joined_and_a_ping_inside_it_is_answered(pair) -> None:
    """Section 5.4: control frames may come between the fragments; 5.5.2: a pong echoes the ping."""
    ws, server = pair
    server.sendall(frame(TEXT, b"hel", fin=False) + frame(PING, b"are you there")
                   + frame(CONT, b"lo ", fin=False) + frame(CONT, b"world"))
    assert ws.recv_data() == (TEXT, b"hello world")
    assert read_client_frame(server) == (PONG, b"are you there")


def test_a_timeout_in_the_middle_of_a_frame_loses_nothing(pair) -> None:
    ws, server = pair
    whole = frame(TEXT, b'{"type": "executed", "data": {}}')
    server.sendall(whole[:5])
    ws.sock.settimeout(0.05)
    with pytest.raises(WebSocketTimeoutException):
        ws.recv_data()
    server.sendall(whole[5:])
    ws.sock.settimeout(2.0)
    assert ws.recv_data() == (TEXT, b'{"type": "executed", "data": {}}')


def test_a_close_is_answered_with_a_close(pair) -> None:
    """Section 5.5.1."""
    ws, server = pair
    server.sendall(frame(CLOSE, (1000).to_bytes(2, "big") + b"bye"))
    assert ws.recv_data() == (CLOSE, (1000).to_bytes(2, "big") + b"bye")
    assert read_client_frame(server)[0] == CLOSE


def test_pongs_are_passed_over_unless_control_frames_are_asked_for(pair) -> None:
    ws, server = pair
    server.sendall(frame(PONG, b"1") + frame(TEXT, b"after") + frame(PONG, b"2"))
    assert ws.recv_data() == (TEXT, b"after")
    assert ws.recv_data(control_frame=True) == (PONG, b"2")


@pytest.mark.parametrize("data,why", [
    (frame(TEXT, b"hi", masked=True), "masked"),  # 5.1: a server never masks
    (frame(TEXT, b"hi", first_extra=0x40), "RSV"),  # 5.2: no extension negotiated
    (frame(0x3, b"hi"), "unknown opcode"),  # 5.2: reserved non-control opcode
    (frame(PING, b"p" * 126), "control frame"),  # 5.5: at most 125 bytes
    (frame(PING, b"p", fin=False), "control frame"),  # 5.5: never fragmented
    (frame(CONT, b"tail"), "continuation"),  # 5.4: nothing to continue
    (frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"), "new message"),  # 5.4: interleaved messages
    (bytes([0x81, 127]) + (1 << 63).to_bytes(8, "big"), "top bit"),  # 5.2: 64-bit length MSB is 0
])
def test_protocol_breaches_end_the_connection_with_a_reason(pair, data: bytes, why: str) -> None:
    ws, server = pair
    server.sendall(data)
    with pytest.raises(WebSocketProtocolException, match=why):
        ws.recv_data()


def test_a_connection_lost_mid_frame_is_a_closed_connection(pair) -> None:
    ws, server = pair
    server.sendall(frame(TEXT, b"0123456789")[:6])
    server.shutdown(socket.SHUT_WR)
    with pytest.raises(WebSocketConnectionClosedException):
        ws.recv_data()


def test_websocket_clients_own_reads_share_the_gulp(pair) -> None:
    """websocket-client's recv_frame (used when it closes) reads through `_recv`: bytes gulped by
    the lean reader are not lost to it."""
    ws, server = pair
    server.sendall(frame(TEXT, b"first") + frame(TEXT, b"second"))
    assert ws.recv_data() == (TEXT, b"first")
    parsed = ws.recv_frame()
    assert (parsed.opcode, parsed.data) == (TEXT, b"second")
