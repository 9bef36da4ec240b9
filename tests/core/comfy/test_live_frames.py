"""Live-view frames: previews (binary types 1 and 4), progress_state and the feature negotiation.

Frame layouts follow ComfyUI's server.py (`send_image`, `send_image_with_metadata`, `encode_bytes`)
and comfy_execution/progress.py; the progress_state and feature_flags texts are the real ComfyUI
0.8 ones from capture 03.
"""

from __future__ import annotations

import io
import json
import logging
import struct
from typing import Any, Dict, List

import pytest
from comfykit import capture
from PIL import Image

from nuke_comfyui.core.comfy.events import parse_message
from nuke_comfyui.core.comfy.feature_flags import ServerFeatures, negotiation_message, server_features
from nuke_comfyui.core.comfy.live_interest import LiveInterest
from nuke_comfyui.core.comfy.node_progress import NodeProgress, NodeState, parse_progress_state
from nuke_comfyui.core.comfy.previews import (
    MAX_BYTES,
    Preview,
    PreviewReader,
    PreviewRefused,
    is_preview,
    parse_preview,
)


def jpeg(size: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(out, "JPEG", quality=95)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 90, 0)).save(out, "PNG")
    return out.getvalue()


def type1(image: bytes, fmt: int = 1) -> bytes:
    """ComfyUI's send_image: uint32 event 1, uint32 format (1 JPEG, 2 PNG), the image."""
    return struct.pack(">II", 1, fmt) + image


def type4(image: bytes, meta: Any) -> bytes:
    """ComfyUI's send_image_with_metadata: uint32 event 4, uint32 JSON length, JSON, the image."""
    text = json.dumps(meta).encode()
    return struct.pack(">II", 4, len(text)) + text + image


META = {"node_id": "3", "prompt_id": "p-1", "display_node_id": "12", "parent_node_id": None,
        "real_node_id": "3", "image_type": "image/jpeg"}


def test_type1_keeps_the_image_and_knows_no_prompt() -> None:
    image = jpeg()
    preview = parse_preview(type1(image))
    assert preview == Preview(None, None, None, "image/jpeg", image)
    assert not preview.with_metadata
    assert parse_preview(type1(png(), fmt=2)).mime == "image/png"


def test_type4_carries_prompt_and_display_node() -> None:
    image = jpeg()
    preview = parse_preview(type4(image, META))
    assert (preview.prompt_id, preview.node, preview.display_node, preview.mime) == ("p-1", "3", "12", "image/jpeg")
    assert preview.data == image and preview.with_metadata
    no_display = parse_preview(type4(image, {**META, "display_node_id": None}))
    assert no_display.display_node == "3"


@pytest.mark.parametrize(("frame", "reason"), [
    (type4(jpeg(), {**META, "prompt_id": None}), "no prompt id"),
    (type4(jpeg(), ["not", "an", "object"]), "not a JSON object"),
    (struct.pack(">II", 4, 10_000) + b"{}", "runs past"),
    (struct.pack(">II", 4, 5) + b"{nope" + jpeg(), "unreadable metadata"),
    (type1(b"GIF89a....."), "neither JPEG nor PNG"),
    (type1(b""), "neither JPEG nor PNG"),
    (struct.pack(">I", 3) + b"text", "type 3 is not a preview"),
])
def test_frames_we_cannot_keep_are_refused_with_a_reason(frame: bytes, reason: str) -> None:
    with pytest.raises(PreviewRefused, match=reason):
        parse_preview(frame)


def test_a_preview_over_the_cap_is_refused_before_anything_is_read() -> None:
    big = type1(jpeg() + b"\0" * (MAX_BYTES + 1))
    with pytest.raises(PreviewRefused, match="over the 2097152-byte cap"):
        parse_preview(big)
    small_cap = type4(jpeg(), META)
    with pytest.raises(PreviewRefused, match="cap"):
        parse_preview(small_cap, max_bytes=len(small_cap) - 1)
    assert parse_preview(small_cap, max_bytes=len(small_cap)).prompt_id == "p-1"


def test_server_ids_are_kept_only_when_short_and_printable() -> None:
    odd = parse_preview(type4(jpeg(), {**META, "node_id": "x" * 500, "display_node_id": "a\nb"}))
    assert odd.node is None and odd.display_node is None
    numeric = parse_preview(type4(jpeg(), {**META, "node_id": 7, "display_node_id": True}))
    assert numeric.node == "7" and numeric.display_node == "7"


def test_reader_skips_other_binary_types_and_logs_refusals_once(caplog: pytest.LogCaptureFixture) -> None:
    reader = PreviewReader("gpu2", max_bytes=64)
    caplog.set_level(logging.DEBUG, logger="nuke_comfyui.core.comfy.previews")
    assert reader.read(struct.pack(">I", 3) + b"progress text") is None  # not a preview: silent
    assert reader.read(b"\0\0") is None
    assert caplog.records == []
    big = type1(jpeg(32))
    assert len(big) > 64
    for _ in range(5):
        assert reader.read(big) is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "gpu2" in warnings[0].getMessage() and "cap" in warnings[0].getMessage()
    assert reader.refused == 5
    assert is_preview(type1(jpeg())) and is_preview(type4(jpeg(), META)) and not is_preview(b"\0\0\0\2")


def _capture_frames(kind: str) -> List[Dict[str, Any]]:
    data = capture("03_ws_messages_tiny.json")
    return [f["msg"] for f in data["on_connect"] + data["messages_after_post"]
            if f.get("kind") == "text" and f["msg"]["type"] == kind]


def test_progress_state_of_a_real_server() -> None:
    frames = _capture_frames("progress_state")
    assert len(frames) >= 4
    first = parse_progress_state(frames[0]["data"])
    pid = frames[0]["data"]["prompt_id"]
    assert first == NodeProgress(pid, (NodeState("1", "1", "running", 0.0, 1.0),))
    assert first.current() == NodeState("1", "1", "running", 0.0, 1.0)
    states = [parse_progress_state(f["data"]) for f in frames]
    assert all(s.prompt_id == pid for s in states)
    finished = states[-1]
    assert finished.nodes and all(n.state == "finished" for n in finished.nodes) and finished.current() is None


def test_progress_state_prefers_the_node_with_steps_and_skips_odd_entries() -> None:
    data = {"prompt_id": "p", "nodes": {
        "5": {"value": 12, "max": 30, "state": "running", "node_id": "5", "display_node_id": "5"},
        "7": {"value": 0, "max": 1, "state": "running", "node_id": "7", "display_node_id": "20"},
        "9": "garbage",
        "\n": {"value": 0, "max": 1, "state": "running"},
    }}
    progress = parse_progress_state(data)
    assert [n.node for n in progress.nodes] == ["5", "7"]
    assert progress.current() == NodeState("5", "5", "running", 12.0, 30.0)
    no_steps = parse_progress_state({"prompt_id": 3, "nodes": {"7": data["nodes"]["7"]}})
    assert no_steps.prompt_id is None and no_steps.current() == NodeState("7", "20", "running", 0.0, 1.0)
    assert parse_progress_state({"nodes": []}).nodes == ()


def test_negotiation_and_the_real_answer() -> None:
    assert json.loads(negotiation_message()) == {"type": "feature_flags",
                                                 "data": {"supports_preview_metadata": True}}
    answer = _capture_frames("feature_flags")[0]["data"]
    assert server_features(answer) == ServerFeatures(preview_metadata=True, max_upload_size=104857600)
    assert server_features({"supports_preview_metadata": "yes", "max_upload_size": True}) == \
        ServerFeatures(False, 0)


def test_progress_state_is_parsed_only_on_request_and_feature_flags_always(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import nuke_comfyui.core.comfy.events as events

    state = json.dumps(_capture_frames("progress_state")[0])
    flags = json.dumps(_capture_frames("feature_flags")[0])
    decoded: List[Any] = []
    real_loads = json.loads
    monkeypatch.setattr(events.json, "loads", lambda text, *a, **k: decoded.append(text) or real_loads(text, *a, **k))
    assert parse_message(state) is None and parse_message(state, {"progress", "executed"}) is None
    assert decoded == []  # dropped from its first bytes
    assert isinstance(parse_message(state, {"progress_state"}), NodeProgress)
    assert isinstance(parse_message(flags, {"executed"}), ServerFeatures)
    assert isinstance(parse_message(flags), ServerFeatures)


def test_interest_is_counted_and_releases_are_idempotent() -> None:
    interest = LiveInterest()
    assert not interest.progress and not interest.previews
    cli = interest.watch()
    panel = interest.watch(previews=True)
    assert interest.progress and interest.previews
    panel()
    panel()  # a second release changes nothing
    assert interest.progress and not interest.previews
    cli()
    assert not interest.progress and not interest.previews
