"""One-off connection tests (the settings panel's Test button) and the status a server's capabilities imply.

Kept apart from the pool: a connection test builds a throwaway client and changes no pool state.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Optional

from nuke_comfyui.core.comfy import capabilities as caps_of
from nuke_comfyui.core.comfy.capabilities import Capabilities
from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.pool.probe import disabled_status, probe
from nuke_comfyui.core.pool.status import ServerState, ServerStatus

#: a health probe's connect timeout: a farm's servers answer a SYN in milliseconds
PROBE_CONNECT_S = 1.0


def default_client_factory(server: ServerConfig) -> Any:
    from nuke_comfyui.core.comfy.client import ComfyClient

    return ComfyClient(server)


def probe_client_factory(server: ServerConfig) -> Any:
    """The client of the pool's health probes: no retries and a short connect timeout, so a dead or
    refusing server costs one quick attempt per probe (the next probe is the retry, with backoff):
    with the scheduling client's retries, 498 refusing servers of 500 kept `status` busy for 38 s."""
    from nuke_comfyui.core.comfy.client import ComfyClient

    return ComfyClient(server, connect_timeout=PROBE_CONNECT_S, retries=0)


def test_connection(server: ServerConfig, *, client_factory: Optional[Callable[[ServerConfig], Any]] = None
                    ) -> ServerStatus:
    """Probe one server once with a throwaway client (settings panel); changes no pool state."""
    client = (client_factory or default_client_factory)(server)
    try:
        if not server.enabled:
            return disabled_status(server.name, server.base_url)
        status, _ = probe(client, server.name, server.base_url, with_stats=True)
        if not status.state.usable:
            return status
        return status_with(status, caps_of.learn(server.name, status.comfyui_version, client))
    finally:
        close = getattr(client, "close", None)
        if close is not None:
            close()


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name


def status_with(status: ServerStatus, caps: Optional[Capabilities]) -> ServerStatus:
    """The status carrying the capabilities; a refused server is an `error` naming the minimum."""
    if caps is not None and status.state.usable and not caps.supported:
        return replace(status, state=ServerState.ERROR, error=caps.refusal, capabilities=caps)
    return replace(status, capabilities=caps)
