"""Turns `core.config` validation failures into one message per form field.

The settings panel shows each problem under the field it concerns. pydantic reports a location
(`("auth", "token")`) and a message; custom validators in core/config.py already name the fix, so
this module only keys the messages by field and strips pydantic's "Value error, " prefix.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from pydantic import ValidationError

from nuke_comfyui.core.errors import ConfigError


def field_messages(exc: BaseException, prefix: str = "") -> Dict[str, str]:
    """`{"port": "port: Input should be ...", "": "..."}` from a ValidationError or ConfigError."""
    messages: Dict[str, str] = {}
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ())]
            if prefix and loc and loc[0] == prefix:
                loc = loc[1:]
            key = ".".join(loc)
            text = str(error.get("msg", "invalid value"))
            if text.startswith("Value error, "):
                text = text[len("Value error, "):]
            line = f"{key}: {text}" if key else text
            messages[key] = f"{messages[key]}\n{line}" if key in messages else line
    else:
        messages[""] = str(exc)
    return messages


def validate_server(values: Dict[str, Any]) -> Tuple[Optional[Any], Dict[str, str]]:
    """(ServerConfig, {}) when valid, else (None, messages by field)."""
    from nuke_comfyui.core.config import ServerConfig

    try:
        return ServerConfig(**values), {}
    except (ValidationError, ConfigError, ValueError, TypeError) as exc:
        return None, field_messages(exc)


def validate_cluster(servers: list, cluster_values: Dict[str, Any]) -> Tuple[Optional[Any], Dict[str, str]]:
    """(ClusterConfig, {}) when valid, else (None, messages by cluster field)."""
    from nuke_comfyui.core.config import ClusterConfig

    try:
        return ClusterConfig(servers=servers, **cluster_values), {}
    except (ValidationError, ConfigError, ValueError, TypeError) as exc:
        return None, field_messages(exc)
