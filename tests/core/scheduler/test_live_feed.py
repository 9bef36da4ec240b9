"""LiveFeed and LiveBoard: previews and node progress matched to our jobs, never to a stranger's.

The feed sees a server's events in the order the server sends them (ComfyUI's progress hook sends
a step's `progress`, then its preview). Jobs and the scheduler's prompt index are small stand-ins
with the attributes the feed reads (`occupying`, `current`, job.id/group/frame/variation).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

from nuke_comfyui.core.comfy.event_types import (
    Connected,
    Disconnected,
    ExecutionFailed,
    ExecutionStart,
    Progress,
    PromptDone,
)
from nuke_comfyui.core.comfy.feature_flags import ServerFeatures
from nuke_comfyui.core.comfy.node_progress import NodeProgress, NodeState
from nuke_comfyui.core.comfy.previews import Preview
from nuke_comfyui.core.comfy.types import ExecutionFailure
from nuke_comfyui.core.scheduler import live_board
from nuke_comfyui.core.scheduler.live_board import LiveBoard, node_titles
from nuke_comfyui.core.scheduler.live_feed import LiveFeed

TEMPLATE = json.dumps({
    "3": {"class_type": "KSampler", "inputs": {}},
    "8": {"class_type": "VAEDecode", "inputs": {}, "_meta": {"title": "Decode \u2013 final\n"}},
    "12": {"class_type": "MySubgraph", "inputs": {}, "_meta": {"title": "x" * 80}},
})


class State:
    """The scheduler state's prompt index: prompt id -> job, prompt id -> server."""

    def __init__(self) -> None:
        self.jobs: Dict[str, Any] = {}
        self.occupying: Dict[str, str] = {}
        self.group = SimpleNamespace(id="g1", label="shot", plan=SimpleNamespace(template_json=TEMPLATE))

    def add(self, pid: str, server: str, index: int = 0, frame: Optional[int] = 1001) -> Any:
        job = SimpleNamespace(id=f"g1.{index}", group=self.group, frame=frame, variation=index, prompt_id=pid)
        self.jobs[pid] = job
        self.occupying[pid] = server
        return job

    def current(self, pid: Optional[str]) -> Any:
        job = self.jobs.get(pid or "")
        return job if job is not None and job.prompt_id == pid else None


def jpeg(tag: bytes = b"") -> bytes:
    return b"\xff\xd8\xff" + tag


def feed_for(state: State, server: str = "gpu1", watch_previews: bool = True) -> Any:
    board = LiveBoard(alive=lambda job_id, pid: getattr(state.current(pid), "id", None) == job_id)
    board.watch(previews=watch_previews)
    forwarded: List[Any] = []
    return board, LiveFeed(board, state, server, forwarded.append), forwarded


def step(pid: Optional[str], value: int, total: int = 30, node: str = "3") -> Progress:
    return Progress(pid, node, float(value), float(total))


def test_type_4_goes_to_our_job_by_prompt_id_and_never_to_anothers() -> None:
    state = State()
    state.add("ours", "gpu1")
    board, feed, forwarded = feed_for(state)
    feed(Preview("ours", "3", "3", "image/jpeg", jpeg(b"1")))
    feed(Preview("another-artist", "3", "3", "image/jpeg", jpeg(b"2")))
    state.add("elsewhere", "gpu2", index=1)
    feed(Preview("elsewhere", "3", "3", "image/jpeg", jpeg(b"3")))  # ours, but not sent to this server
    latest = board.latest_preview("g1.0")
    assert latest is not None and latest.data == jpeg(b"1") and latest.prompt_id == "ours"
    assert board.latest_preview("g1.1") is None
    assert board.changes(0).previews == ["g1.0"]
    assert forwarded == []  # previews are not tracking's business


def test_type_1_goes_to_the_one_prompt_of_ours_running_there() -> None:
    state = State()
    state.add("ours", "gpu1")
    board, feed, _ = feed_for(state)
    feed(Preview(None, None, None, "image/jpeg", jpeg(b"early")))  # nothing of ours started yet
    assert board.latest_preview("g1.0") is None
    feed(ExecutionStart("ours"))
    feed(step("ours", 1))
    feed(Preview(None, None, None, "image/jpeg", jpeg(b"step1")))
    latest = board.latest_preview("g1.0")
    assert latest is not None and latest.data == jpeg(b"step1")


def test_type_1_is_dropped_when_it_cannot_be_told_whose_it_is() -> None:
    state = State()
    state.add("a", "gpu1", index=0)
    state.add("b", "gpu1", index=1)
    board, feed, _ = feed_for(state)
    feed(ExecutionStart("a"))
    feed(ExecutionStart("b"))  # two of ours run here (a server with more than one worker)
    feed(step("a", 3))
    feed(Preview(None, None, None, "image/jpeg", jpeg()))
    assert board.changes(0).previews == []
    feed(PromptDone("b"))
    # another artist's prompt, queued without a client id, is broadcast to every socket: its
    # progress comes just before its preview, so that preview is not ours even though "a" runs
    feed(ExecutionStart("stranger"))
    feed(step("stranger", 5))
    feed(Preview(None, None, None, "image/jpeg", jpeg(b"theirs")))
    assert board.changes(0).previews == []
    feed(step("a", 4))
    feed(Preview(None, None, None, "image/jpeg", jpeg(b"ours")))
    latest = board.latest_preview("g1.0")
    assert latest is not None and latest.data == jpeg(b"ours")


def test_a_reconnect_forgets_what_ran_on_the_old_connection() -> None:
    state = State()
    state.add("ours", "gpu1")
    board, feed, forwarded = feed_for(state)
    feed(ExecutionStart("ours"))
    feed(step("ours", 2))
    feed(Preview(None, None, None, "image/jpeg", jpeg()))
    assert board.status("g1.0") is not None and board.latest_preview("g1.0") is not None
    feed(Disconnected("connection lost"))
    assert board.status("g1.0") is None and board.latest_preview("g1.0") is None
    feed(Connected("new-client-id", True))
    feed(Preview(None, None, None, "image/jpeg", jpeg()))  # its start was on the old connection
    assert board.latest_preview("g1.0") is None
    assert [type(e).__name__ for e in forwarded] == ["ExecutionStart", "Progress", "Disconnected", "Connected"]


def test_node_progress_names_the_node_and_its_steps() -> None:
    state = State()
    state.add("ours", "gpu1")
    board, feed, _ = feed_for(state, watch_previews=False)
    feed(step("ours", 12))  # a server without progress_state: `progress` says it
    status = board.status("g1.0")
    assert status is not None and status.text == "KSampler 12/30" and status.fraction == 0.4
    assert (status.frame, status.variation, status.server, status.group_id) == (1001, 0, "gpu1", "g1")
    feed(NodeProgress("ours", (NodeState("3", "3", "finished", 30, 30), NodeState("8", "8", "running", 0, 1))))
    status = board.status("g1.0")
    assert status is not None and status.text == "Decode \u2013 final"
    feed(step("ours", 30))  # progress_state is heard here: `progress` no longer overrides it
    assert board.status("g1.0").text == "Decode \u2013 final"
    feed(NodeProgress("ours", (NodeState("12:5", "12", "running", 2, 8),)))
    assert board.status("g1.0").text == "x" * 39 + "\u2026 2/8"
    feed(NodeProgress("not-ours", (NodeState("3", "3", "running", 1, 2),)))
    assert [s.prompt_id for s in board.statuses()] == ["ours"]


def test_preview_and_status_go_when_the_prompt_ends_or_is_replaced() -> None:
    state = State()
    job = state.add("first", "gpu1")
    board, feed, _ = feed_for(state)
    feed(Preview("first", "3", "3", "image/jpeg", jpeg()))
    feed(step("first", 1))
    feed(ExecutionFailed("first", ExecutionFailure("3", "KSampler", "RuntimeError", "boom")))
    assert board.status("g1.0") is None and board.latest_preview("g1.0") is None
    feed(Preview("first", "3", "3", "image/jpeg", jpeg()))
    job.prompt_id = "retry"  # a retry elsewhere: the old prompt is no longer the job's
    assert board.latest_preview("g1.0") is None and board.statuses() == []


def test_nothing_is_kept_while_nobody_watches() -> None:
    state = State()
    state.add("ours", "gpu1")
    board = LiveBoard()
    feed = LiveFeed(board, state, "gpu1", lambda event: None)
    feed(step("ours", 3))
    assert board.statuses() == []
    feed(ServerFeatures(True, 10))
    assert board.features("gpu1") == ServerFeatures(True, 10)


def test_preview_bytes_are_bounded_oldest_first(monkeypatch: Any) -> None:
    monkeypatch.setattr(live_board, "MAX_PREVIEW_BYTES", 100)
    state = State()
    for index in range(4):
        state.add(f"p{index}", "gpu1", index=index)
    board, feed, _ = feed_for(state)
    for index in range(4):
        feed(Preview(f"p{index}", "3", "3", "image/jpeg", jpeg(b"." * 40)))
    kept = sorted(board.changes(0).previews)
    assert kept == ["g1.2", "g1.3"]
    feed(Preview("p3", "3", "3", "image/jpeg", jpeg(b"." * 200)))  # one alone over the bound is still kept
    assert board.changes(0).previews == ["g1.3"]


def test_changes_since_a_version() -> None:
    state = State()
    state.add("a", "gpu1", index=0)
    state.add("b", "gpu1", index=1)
    board, feed, _ = feed_for(state)
    feed(step("a", 1))
    first = board.changes(0)
    assert [s.job_id for s in first.statuses] == ["g1.0"] and first.version > 0
    feed(step("b", 1))
    feed(Preview("a", "3", "3", "image/jpeg", jpeg()))
    later = board.changes(first.version)
    assert [s.job_id for s in later.statuses] == ["g1.1"] and later.previews == ["g1.0"]
    assert board.changes(later.version).statuses == []


def test_node_titles_of_a_workflow() -> None:
    titles = node_titles(TEMPLATE)
    assert titles["3"] == "KSampler" and titles["8"] == "Decode \u2013 final"
    assert node_titles("not json") == {} and node_titles("[1, 2]") == {}
