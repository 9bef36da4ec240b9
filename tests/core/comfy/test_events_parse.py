"""Parsing WebSocket text frames into events, replayed from the real ComfyUI 0.8 captures."""

from __future__ import annotations

import json
import logging
from typing import Any, List

import pytest
from comfykit import capture

from nuke_comfyui.core.comfy.events import (
    Executed,
    Executing,
    ExecutionCached,
    ExecutionFailed,
    ExecutionStart,
    ExecutionSuccess,
    Progress,
    PromptDone,
    QueueStatus,
    frame_type,
    parse_message,
)


def texts(frames: List[Any]) -> List[str]:
    """Text frames of a capture as the raw strings the socket would deliver."""
    out = []
    for frame in frames:
        if "kind" in frame:
            if frame["kind"] == "text":
                out.append(json.dumps(frame["msg"]))
        else:
            out.append(json.dumps(frame))
    return out


def parsed(frames: List[Any]) -> List[Any]:
    return [e for e in (parse_message(t) for t in texts(frames)) if e is not None]


def test_capture_03_tiny_run() -> None:
    data = capture("03_ws_messages_tiny.json")
    pid = data["prompt_id"]
    events = parsed(data["on_connect"] + data["messages_after_post"])
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "QueueStatus" and events[0] == QueueStatus(0)
    assert ExecutionStart(pid, 1795342471791) in events
    assert ExecutionCached(pid, []) in events
    assert Executing(pid, "1") in events
    assert isinstance(events[-1], PromptDone) and events[-1].prompt_id == pid
    assert any(isinstance(e, ExecutionSuccess) and e.prompt_id == pid for e in events)
    executed = [e for e in events if isinstance(e, Executed)]
    assert executed and executed[0].output["images"][0]["filename"] == "tiny_00001_.png"
    assert "progress_state" not in kinds and "feature_flags" not in kinds


def test_capture_06_07_interrupt_and_error() -> None:
    events = parsed(capture("06_07_queue_busy_interrupt.json")["ws"])
    failed = [e for e in events if isinstance(e, ExecutionFailed)]
    interrupted = [e for e in failed if e.failure.interrupted]
    errors = [e for e in failed if not e.failure.interrupted]
    assert len(interrupted) == 2 and interrupted[0].failure.node_type == "SaveImage"
    assert interrupted[0].timestamp_ms == 1795342572695
    assert len(errors) == 1
    err = errors[0]
    assert (err.failure.node_id, err.failure.exception_type) == ("1", "FileNotFoundError")
    assert err.prompt_id == "894a95c9-5004-4ec9-b00e-39aa3cd8fe4a"


def test_capture_11_progress() -> None:
    data = capture("11_progress_messages_upscale.json")
    events = parsed(data["run"]["ws"])
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress[0] == Progress(data["run"]["response"]["prompt_id"], "3", 1.0, 16.0)
    assert progress[-1].value == progress[-1].max
    mid = parsed(data["mid_node_interrupt"]["ws"])
    assert isinstance(mid[-1], ExecutionFailed) and mid[-1].failure.interrupted
    assert ExecutionCached(data["mid_node_interrupt"]["response"]["prompt_id"], ["2"]) in mid


def test_capture_12_binary_frames_ignored_text_outputs_kept() -> None:
    data = capture("12_text_frame_and_nonimage_outputs.json")
    frames = data["ws_owner"]
    assert any(f["kind"] == "binary" for f in frames)
    events = parsed(frames)
    executed = {e.node: e.output for e in events if isinstance(e, Executed)}
    assert executed["3"] == {"text": ["1536"]}
    assert isinstance(events[-1], PromptDone)


def test_capture_14_events_without_prompt_id_after_reconnect() -> None:
    data = capture("14_ws_reconnect_mid_execution.json")
    after = parsed(data["after_reconnect_same_clientId"])
    assert after[1] == Executing(None, "2")  # no prompt_id right after the reconnect
    pid = "eca99d25-4faf-44ef-b2d1-233e6c4865f3"
    assert after[-1] == PromptDone(pid)
    assert parse_message('{"type": "progress", "data": {"value": 2, "max": 4, "node": "5"}}') == \
        Progress(None, "5", 2.0, 4.0)
    assert parse_message('{"type": "executing", "data": {"node": null}}') == Executing(None, None)


@pytest.mark.parametrize("frame", [
    "not json", "[1, 2]", '{"data": {}}', '{"type": 3}', '{"type": "executing", "data": []}',
    '{"type": "progress", "data": {"value": "x", "max": 2}}', '{"type": "executed", "data": {"output": [1]}}',
    '{"type": "execution_cached", "data": {"nodes": "1"}}', b"\xff\xfe",
])
def test_garbage_frames_are_logged_and_skipped(frame: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="nuke_comfyui.core.comfy.events"):
        assert parse_message(frame) is None
    assert "skipping an unreadable WebSocket frame" in caplog.text


def test_unknown_message_types_are_ignored_quietly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert parse_message('{"type": "crystools.monitor", "data": {"cpu": 3}}') is None
    assert caplog.text == ""


def test_frame_type_reads_the_type_off_every_captured_frame_without_parsing() -> None:
    """Real frames start with their type (ComfyUI's json.dumps), so the prefilter sees every one."""
    data = capture("03_ws_messages_tiny.json")
    for text in texts(data["on_connect"] + data["messages_after_post"]):
        assert frame_type(text) == json.loads(text)["type"]
        assert frame_type(text.encode()) == json.loads(text)["type"]
    assert frame_type('{"data": {}, "type": "executed"}') is None  # laid out otherwise: parsed in full
    assert frame_type('{"type":"status","data":{}}') == "status"


def test_unused_and_narrowed_types_are_dropped_before_json(monkeypatch: pytest.MonkeyPatch) -> None:
    import nuke_comfyui.core.comfy.events as events

    decoded: List[Any] = []
    real_loads = json.loads

    def counting_loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        decoded.append(text)
        return real_loads(text, *args, **kwargs)

    monkeypatch.setattr(events.json, "loads", counting_loads)
    state = '{"type": "progress_state", "data": {"prompt_id": "p", "nodes": {}}}'
    assert parse_message(state) is None and parse_message(state.encode()) is None
    assert parse_message('{"type": "crystools.monitor", "data": {"cpu": 3}}') is None
    status = '{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 2}}}}'
    assert parse_message(status, kinds={"executed"}) is None
    assert decoded == []
    assert parse_message(status) == QueueStatus(2)  # parsed when wanted
    assert parse_message('{"data": {"status": {"exec_info": {"queue_remaining": 1}}}, "type": "status"}',
                         kinds={"executed"}) is None  # no prefix: parsed, then narrowed
    assert len(decoded) == 2


def test_prompt_done_asks_for_the_ending_frame_without_parsing_the_per_node_ones(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Capture 03 (real ComfyUI 0.8): one `executing` per node, then one with node null that ends
    the prompt. With PROMPT_DONE instead of "executing" only that last one is parsed and delivered."""
    import nuke_comfyui.core.comfy.events as events

    data = capture("03_ws_messages_tiny.json")
    frames = texts(data["on_connect"] + data["messages_after_post"])
    executing = [f for f in frames if frame_type(f) == "executing"]
    assert len(executing) >= 2  # at least one node, then the end
    decoded: List[Any] = []
    real_loads = json.loads
    monkeypatch.setattr(events.json, "loads", lambda text, *a, **k: decoded.append(text) or real_loads(text, *a, **k))
    kinds = {events.PROMPT_DONE, "executed"}
    got = [e for e in (parse_message(f, kinds) for f in frames) if e is not None]
    # the negotiation's answer (on connect) is delivered whatever `kinds` says: once per connection
    assert [type(e).__name__ for e in got] == ["ServerFeatures", "Executed", "PromptDone"]
    assert got[-1] == PromptDone(data["prompt_id"])
    assert [f for f in decoded if frame_type(f) == "executing"] == [executing[-1]]
    for frame in executing:  # bytes frames take the same path
        event = parse_message(frame.encode(), kinds)
        assert (event is not None) == (frame == executing[-1])
    # asking for "executing" itself still delivers every node, PROMPT_DONE or not
    both = [parse_message(f, {"executing", events.PROMPT_DONE}) for f in executing]
    assert Executing(data["prompt_id"], "1") in both and isinstance(both[-1], PromptDone)


def test_tracking_asks_its_streams_for_prompt_done_not_every_executing() -> None:
    from nuke_comfyui.core.comfy.events import PROMPT_DONE
    from nuke_comfyui.core.scheduler.tracking import TRACKED_KINDS

    assert PROMPT_DONE in TRACKED_KINDS and "executing" not in TRACKED_KINDS
