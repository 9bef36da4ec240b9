"""How to reach one server: base URL, auth headers and TLS settings, read from its config.

Both the HTTP client and the WebSocket stream need the same three facts. They are read
defensively (`getattr`) so the comfy layer only depends on the documented `ServerConfig`
contract, not on its pydantic implementation details.
"""

from __future__ import annotations

from typing import Any, Dict

from nuke_comfyui.core import redact


def server_name(server: Any) -> str:
    return str(getattr(server, "name", "") or base_url(server))


def base_url(server: Any) -> str:
    """`http(s)://host:port` without a trailing slash (an explicit `url` wins over host/port)."""
    url = getattr(server, "base_url", None)
    if not url:
        url = getattr(server, "url", None)
    if not url:
        host = getattr(server, "host", "127.0.0.1") or "127.0.0.1"
        port = getattr(server, "port", 8188) or 8188
        url = f"http://{host}:{port}"
    return str(url).rstrip("/")


def websocket_url(server: Any, client_id: str) -> str:
    url = base_url(server)
    if url.startswith("https://"):
        url = "wss://" + url[len("https://"):]
    elif url.startswith("http://"):
        url = "ws://" + url[len("http://"):]
    return f"{url}/ws?clientId={client_id}"


def auth_headers(server: Any) -> Dict[str, str]:
    """Headers a reverse proxy in front of ComfyUI wants (never logged: they hold secrets).

    Every secret in them is registered with `redact`, so a server echoing them back is masked.
    """
    auth = getattr(server, "auth", None)
    if auth is None:
        return {}
    headers = {str(k): str(v) for k, v in dict(auth.headers()).items()}
    redact.register_headers(headers)
    return headers


def verify_tls(server: Any) -> bool:
    return bool(getattr(server, "verify_tls", True))
