"""Helpers for the ComfyUI client tests: a ServerConfig stand-in, capture loading, waiting."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, Optional

import pytest

CAPTURES = Path("/work/shared/comfyui-0.8-captures")


class FakeAuth:
    """What ServerConfig.auth offers the comfy layer: `.headers()`."""

    def __init__(self, headers: Dict[str, str]) -> None:
        self._headers = headers

    def headers(self) -> Dict[str, str]:
        return dict(self._headers)


def server_config(url: str, name: str = "s1", auth: Optional[FakeAuth] = None) -> SimpleNamespace:
    """A stand-in with the ServerConfig attributes the comfy layer reads."""
    return SimpleNamespace(name=name, base_url=url, auth=auth, verify_tls=True)


def capture(name: str) -> Any:
    path = CAPTURES / name
    if not path.is_file():
        pytest.skip(f"capture {name} not available")
    return json.loads(path.read_text())


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until `condition()` is truthy; fail the test with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
