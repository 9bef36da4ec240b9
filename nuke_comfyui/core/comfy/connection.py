"""How to reach one server: base URL, auth headers and TLS settings, read from its config.

Both the HTTP client and the WebSocket stream need the same three facts. They are read
defensively (`getattr`) so the comfy layer only depends on the documented `ServerConfig`
contract, not on its pydantic implementation details.
"""

from __future__ import annotations

import re
from typing import Any, Dict

from nuke_comfyui.core import redact
from nuke_comfyui.core.errors import ConfigError

_UNSAFE_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab is allowed inside a value


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
    check_header_values(headers, server_name(server))
    return headers


def check_header_values(headers: Dict[str, str], server: str) -> None:
    """ConfigError when a header name or value could split the request (CR, LF, NUL, controls).

    The one check every transport relies on (the lean pool, urllib3 and the WebSocket upgrade
    all take their auth headers from `auth_headers`): a token holding `\r\nX-Injected: yes` would
    otherwise be sent as a header of its own wherever a library does not refuse it. The value is
    never quoted: it is a secret.
    """
    for name, value in headers.items():
        if _UNSAFE_HEADER.search(name) or _UNSAFE_HEADER.search(value):
            raise ConfigError(f"server {server!r}: the {name} header built from its auth settings holds a line "
                              "break or another control character; correct the token, user or password (or "
                              "the environment variable it comes from)")


def verify_tls(server: Any) -> bool:
    return bool(getattr(server, "verify_tls", True))
