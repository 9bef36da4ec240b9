"""Live preview frames: ComfyUI's binary WebSocket messages split into metadata and image bytes.

A binary frame is a big-endian uint32 event type, then its payload (ComfyUI's `protocol.py`,
`server.py` `send_image` / `send_image_with_metadata`):

- 1 `PREVIEW_IMAGE`: a uint32 image format (1 JPEG, 2 PNG), then the image. No prompt id: the
  server sends it to the socket of the prompt it is running (or to every socket for a prompt
  queued without a client id), so only the caller can say whose it is (see live_feed.py).
- 4 `PREVIEW_IMAGE_WITH_METADATA` (0.3.45+, to clients that negotiated it): a uint32 JSON
  length, the JSON (`prompt_id`, `node_id`, `display_node_id`, `image_type`, ...), the image.
- 2 and 3 (unencoded images, progress text) are not previews we show.

Nothing here decodes pixels: the image stays the server's JPEG/PNG bytes, checked only by its
magic number, until a visible panel decodes it on a worker thread. A frame over `MAX_BYTES` or
one that is not laid out as above is refused with a reason (the caller logs it once).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Optional

log = logging.getLogger(__name__)

PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
#: a preview larger than this is dropped (real ones are 5-150 KB: latent2rgb or TAESD, JPEG q95, 512 px)
MAX_BYTES = 2 * 1024 * 1024
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_MAX_ID = 128


class PreviewRefused(ValueError):
    """A binary frame that is a preview we will not keep; the message says why, in a few words."""


@dataclass(frozen=True)
class Preview:
    """One live preview as the server sent it (an event of the stream)."""

    prompt_id: Optional[str]  # from the metadata; None for type 1
    node: Optional[str]  # the executing node's id (metadata `node_id`)
    display_node: Optional[str]  # the id the artist sees (a subgraph's node, for example)
    mime: str  # "image/jpeg" | "image/png", from the bytes themselves
    data: bytes

    @property
    def with_metadata(self) -> bool:
        return self.prompt_id is not None


def binary_type(payload: bytes) -> int:
    """The event type of a binary frame (0 when the frame is too short to have one)."""
    return int.from_bytes(payload[:4], "big") if len(payload) >= 4 else 0


def is_preview(payload: bytes) -> bool:
    return binary_type(payload) in (PREVIEW_IMAGE, PREVIEW_IMAGE_WITH_METADATA)


def parse_preview(payload: bytes, max_bytes: int = MAX_BYTES) -> Preview:
    """A type 1 or type 4 frame as a `Preview`; `PreviewRefused` for anything else we cannot keep."""
    if len(payload) > max_bytes:
        raise PreviewRefused(f"{len(payload)} bytes, over the {max_bytes}-byte cap")
    kind = binary_type(payload)
    if kind == PREVIEW_IMAGE:
        return Preview(None, None, None, _mime(payload[8:]), payload[8:])
    if kind != PREVIEW_IMAGE_WITH_METADATA:
        raise PreviewRefused(f"binary message type {kind} is not a preview")
    if len(payload) < 8:
        raise PreviewRefused("type 4 frame without its metadata length")
    length = int.from_bytes(payload[4:8], "big")
    if length > len(payload) - 8:
        raise PreviewRefused(f"metadata length {length} runs past the {len(payload)}-byte frame")
    try:
        meta = json.loads(payload[8:8 + length])
    except ValueError as exc:
        raise PreviewRefused(f"unreadable metadata ({exc})") from exc
    if not isinstance(meta, dict):
        raise PreviewRefused("metadata is not a JSON object")
    prompt_id = _ident(meta.get("prompt_id"))
    if prompt_id is None:
        raise PreviewRefused("metadata names no prompt id")
    image = payload[8 + length:]
    node = _ident(meta.get("node_id"))
    return Preview(prompt_id, node, _ident(meta.get("display_node_id")) or node, _mime(image), image)


def _mime(image: bytes) -> str:
    if image.startswith(_JPEG):
        return "image/jpeg"
    if image.startswith(_PNG):
        return "image/png"
    raise PreviewRefused("the image is neither JPEG nor PNG")


def _ident(value: Any) -> Optional[str]:
    """A server-sent id kept only if it is a short printable string (or a number)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    if not text or len(text) > _MAX_ID or not text.isprintable():
        return None
    return text


class PreviewReader:
    """Turns one server's binary frames into previews; a refused one is logged, the first at warning.

    Non-preview binary frames (types 2 and 3) are skipped silently. A server that keeps sending
    oversized or broken previews is named once, not once per sampler step.
    """

    def __init__(self, server: str, max_bytes: int = MAX_BYTES) -> None:
        self.server = server
        self.max_bytes = max_bytes
        self.refused = 0

    def read(self, payload: bytes) -> Optional[Preview]:
        if not is_preview(payload):
            return None
        try:
            return parse_preview(payload, self.max_bytes)
        except PreviewRefused as exc:
            self.refused += 1
            if self.refused == 1:
                log.warning("%s: a live preview was dropped: %s (further drops are logged at debug level)",
                            self.server, exc)
            else:
                log.debug("%s: live preview dropped: %s", self.server, exc)
            return None
