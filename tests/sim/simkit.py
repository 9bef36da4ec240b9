"""Helpers for the simulator tests: capture loading, shape comparison, uploads, WebSocket capture."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest
import requests
import websocket
from PIL import Image

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "comfyui-0.8-captures"
if not CAPTURES.is_dir():
    CAPTURES = Path("/work/shared/comfyui-0.8-captures")

TINY = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "acc_in.png"}},
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "acc/tiny"}},
}


def capture(name: str) -> Any:
    path = CAPTURES / name
    if not path.is_file():
        pytest.skip(f"capture {name} not available at {CAPTURES}")
    return json.loads(path.read_text())


def shape(value: Any) -> Any:
    """A value's structure: dict keys (recursively) and JSON types; lists reduced to their first item."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def assert_same_shape(ours: Any, theirs: Any, path: str = "$") -> None:
    """Recursive key/type comparison (numbers are one type; empty lists match any list)."""
    a, b = shape(ours), shape(theirs)
    _compare(a, b, path)


def _compare(a: Any, b: Any, path: str) -> None:
    if isinstance(b, dict):
        assert isinstance(a, dict), f"{path}: expected object, got {a!r}"
        assert set(a) == set(b), (
            f"{path}: keys differ: ours-only {set(a) - set(b)}, real-only {set(b) - set(a)}"
        )
        for key in b:
            _compare(a[key], b[key], f"{path}.{key}")
    elif isinstance(b, list):
        assert isinstance(a, list), f"{path}: expected list, got {a!r}"
        if a and b:
            _compare(a[0], b[0], f"{path}[0]")
    else:
        assert a == b, f"{path}: type {a} != real {b}"


def png_bytes(color=(10, 20, 30), size=(8, 6), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


def upload(url: str, name: str, data: bytes, **fields: str) -> requests.Response:
    return requests.post(
        f"{url}/upload/image", files={"image": (name, data, "image/png")}, data=fields, timeout=10
    )


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> Any:
    """Poll until predicate() is truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met before the deadline")


def wait_history(url: str, prompt_id: str, timeout: float = 10.0) -> Dict[str, Any]:
    return wait_for(
        lambda: requests.get(f"{url}/history/{prompt_id}", timeout=5).json().get(prompt_id), timeout
    )


class WsClient:
    """A websocket-client connection that records every text message."""

    def __init__(self, url: str, client_id: Optional[str]) -> None:
        target = url.replace("http://", "ws://") + "/ws" + (f"?clientId={client_id}" if client_id else "")
        self.ws = websocket.create_connection(target, timeout=10)
        self.messages: List[Dict[str, Any]] = []

    def recv(self, timeout: float = 10.0) -> Optional[Dict[str, Any]]:
        self.ws.settimeout(timeout)
        try:
            raw = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        if not raw or isinstance(raw, bytes):
            return None
        msg = json.loads(raw)
        self.messages.append(msg)
        return msg

    def until_done(self, prompt_id: str, timeout: float = 10.0) -> List[Dict[str, Any]]:
        """Messages up to and including `executing {node: null}` for prompt_id."""
        deadline = time.monotonic() + timeout
        start = len(self.messages)
        while time.monotonic() < deadline:
            msg = self.recv(max(0.01, deadline - time.monotonic()))
            data = msg["data"] if msg else {}
            if (
                msg
                and msg["type"] == "executing"
                and data.get("node") is None
                and data.get("prompt_id") == prompt_id
            ):
                return self.messages[start:]
        raise AssertionError(
            f"no executing-null for {prompt_id}; got {[m['type'] for m in self.messages[start:]]}"
        )

    def drain(self, quiet: float = 0.2) -> List[Dict[str, Any]]:
        start = len(self.messages)
        while self.recv(quiet) is not None:
            pass
        return self.messages[start:]

    def close(self) -> None:
        self.ws.close()
