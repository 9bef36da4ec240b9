"""What one dropped preview frame costs an event stream's thread, without a farm's noise around it.

A farm run's CPU per job moves by a millisecond from run to run on a shared machine, which hides
the cost of a frame nobody reads. This measures it alone: a local TCP socket carries, every
millisecond, one step's frames as a server sends them (a `progress` text frame, then optionally a
binary preview of a given size), and the reading thread runs the stream's own reader
(`GulpingWebSocket.recv_data`) and drop test, as `EventStream` does while nobody watches. The
thread's CPU per step with and without the preview gives the preview's own cost.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Dict

STEP = b'{"type": "progress", "data": {"value": 3, "max": 20, "prompt_id": "p", "node": "3"}}'


def _frame(opcode: int, payload: bytes) -> bytes:
    """A server's (unmasked) WebSocket frame with the shortest length encoding."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, n])
    elif n < 1 << 16:
        head = bytes([0x80 | opcode, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 127]) + n.to_bytes(8, "big")
    return head + payload


def reader_cpu_us_per_step(preview_bytes: int, steps: int = 1000) -> float:
    """CPU microseconds the reading thread spends per step (a progress frame, plus a preview if > 0)."""
    from nuke_comfyui.core.comfy.ws_frames import GulpingWebSocket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    ours = socket.create_connection(listener.getsockname())
    theirs, _ = listener.accept()
    listener.close()
    ours.settimeout(0.5)  # as EventStream's poll interval
    ws = GulpingWebSocket(skip_utf8_validation=True, enable_multithread=True)
    ws.sock, ws.connected = ours, True
    text = _frame(1, STEP)
    preview = _frame(2, b"\0\0\0\4" + os.urandom(preview_bytes)) if preview_bytes else b""

    def serve() -> None:
        for _ in range(steps):
            theirs.sendall(text)
            if preview:
                theirs.sendall(preview)
            time.sleep(0.001)
        theirs.sendall(_frame(1, b"end"))

    writer = threading.Thread(target=serve, daemon=True)
    writer.start()
    started = time.thread_time()
    try:
        while True:
            opcode, payload = ws.recv_data()
            if opcode != 1:
                continue  # nobody watches: a binary frame is dropped by its opcode
            if payload == b"end":
                break
        return (time.thread_time() - started) * 1e6 / steps
    finally:
        writer.join(5)
        ours.close()
        theirs.close()


def dropped_preview_cost_us(sizes: tuple = (2_000, 55_000), repeats: int = 3) -> Dict[str, float]:
    """{"text_only_us": ..., "<size>_bytes_us": cost of one dropped preview of that size} (medians)."""
    def median(values: list) -> float:
        ordered = sorted(values)
        return ordered[len(ordered) // 2]

    base = median([reader_cpu_us_per_step(0) for _ in range(repeats)])
    figures = {"text_only_us": round(base, 1)}
    for size in sizes:
        with_preview = median([reader_cpu_us_per_step(size) for _ in range(repeats)])
        figures[f"{size}_bytes_us"] = round(with_preview - base, 1)
    return figures
