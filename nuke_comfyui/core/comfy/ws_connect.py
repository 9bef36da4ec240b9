"""Opening a server's WebSocket within a total deadline, handshake included.

Why: websocket-client bounds each socket read, not the handshake: a server (or proxy) that
answers the upgrade one byte at a time keeps `create_connection` waiting for ever, on the
thread that should report the server's events. This does what `websocket.create_connection`
does, with the HTTP calls' watchdog (core/comfy/http.py) armed over the whole connect: when
time is up it shuts the socket down and the handshake fails like a dropped connection.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any, Type

import websocket

from nuke_comfyui.core.comfy.http import arm_deadline

#: the whole connect and upgrade, from the first packet to the 101 answer read in full
HANDSHAKE_DEADLINE_S = 10.0


class HandshakeTooSlow(websocket.WebSocketTimeoutException):
    """The upgrade answer did not arrive in full within the deadline."""


def open_websocket(url: str, *, timeout: float, class_: Type[websocket.WebSocket] = websocket.WebSocket,
                   deadline_s: float = HANDSHAKE_DEADLINE_S, **options: Any) -> websocket.WebSocket:
    """`websocket.create_connection(url, timeout=timeout, class_=class_, **options)`, bounded in total."""
    ws = class_(sockopt=options.pop("sockopt", []), sslopt=options.pop("sslopt", {}),
                enable_multithread=options.pop("enable_multithread", True),
                skip_utf8_validation=options.pop("skip_utf8_validation", False), **options)
    ws.settimeout(timeout)
    cut = []

    def shut() -> None:
        cut.append(True)
        sock = getattr(ws, "sock", None)
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    disarm = arm_deadline(time.monotonic() + deadline_s, shut)
    try:
        ws.connect(url, **options)
    except (OSError, websocket.WebSocketException):
        if cut:
            with contextlib.suppress(Exception):
                ws.shutdown()
            raise HandshakeTooSlow(f"the WebSocket handshake with {url.split('?', 1)[0]} did not finish within "
                                   f"{deadline_s:g} s") from None
        raise
    finally:
        disarm()
    return ws
