"""WebSocket feature negotiation: what we tell a ComfyUI server we can read, and what it answers.

Since ComfyUI 0.3.45 a client's *first* WebSocket message may be
`{"type": "feature_flags", "data": {...}}`; the server stores the flags for that socket and
answers with its own (`feature_flags` text frame). With `supports_preview_metadata` the server
sends live previews as binary type 4 (`PREVIEW_IMAGE_WITH_METADATA`: the prompt id and node in a
JSON header), which is what lets us match a preview to its prompt without guessing. Older
servers ignore text frames from clients and never answer: they keep sending type 1 previews
without metadata, and everything else works as before (nothing waits for the answer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict

#: the flags we send: only the one we act on (previews with their prompt id and node)
CLIENT_FLAGS: Dict[str, Any] = {"supports_preview_metadata": True}


def negotiation_message() -> str:
    """The text frame to send first on every new connection."""
    return json.dumps({"type": "feature_flags", "data": CLIENT_FLAGS})


@dataclass(frozen=True)
class ServerFeatures:
    """The server's answer to the negotiation (an event of its stream; once per connection)."""

    preview_metadata: bool  # previews reach this socket as type 4, with prompt id and node
    max_upload_size: int = 0  # bytes, 0 when not said


def server_features(data: Dict[str, Any]) -> ServerFeatures:
    """The `data` of a `feature_flags` message; unknown or odd values read as absent."""
    size = data.get("max_upload_size")
    return ServerFeatures(
        preview_metadata=data.get("supports_preview_metadata") is True,
        max_upload_size=size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else 0,
    )
