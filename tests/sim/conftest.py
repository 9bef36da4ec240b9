"""Fixtures for the simulator tests (helpers live in simkit.py)."""

from __future__ import annotations

import contextlib
from typing import List, Optional

import pytest
import websocket
from simkit import WsClient


@pytest.fixture
def ws_factory():  # type: ignore[no-untyped-def]
    clients: List[WsClient] = []

    def make(url: str, client_id: Optional[str]) -> WsClient:
        client = WsClient(url, client_id)
        clients.append(client)
        return client

    yield make
    for client in clients:
        with contextlib.suppress(OSError, websocket.WebSocketException):
            client.close()
