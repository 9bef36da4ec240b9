"""Outputs heard on the event stream instead of GET /history, and only when they are complete.

Replayed against real ComfyUI 0.8 traffic (shared/comfyui-0.8-captures/): whenever the stream's
notes are taken as complete they must equal the history entry's outputs, and a cached output
node or a prompt whose messages we did not receive must fall back to history. Then the scheduler
with in-memory fakes: history is not read when `executed` carried every output, and is read
when the output node was cached or the stream said nothing of success.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple

import pytest
from scheduler_fakes import FakeClient, FakePool, FakeServer, FakeStream, Placement, fake_plan, frames

from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.comfy.events import Executed, ExecutionCached, ExecutionSuccess, parse_message
from nuke_comfyui.core.comfy.outputs import output_files
from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.scheduler import GroupState, Scheduler
from nuke_comfyui.core.scheduler.stream_outputs import StreamOutputs, complete_outputs
from nuke_comfyui.core.scheduler.tracking import _Forward

CAPTURES = Path(os.environ.get("COMFYUI_CAPTURES", "/work/shared/comfyui-0.8-captures"))
if not CAPTURES.is_dir():
    CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "comfyui-0.8-captures"


class _Recorder:
    """Stands in for Tracking: records what _Forward passes on (and with which notes)."""

    def __init__(self) -> None:
        self.state = SimpleNamespace(suspect_until={}, heard_at={})
        self.forwarded: List[Tuple[str, Any]] = []

    def on_stream_event(self, server: str, event: Any, heard: Any = None) -> None:
        self.forwarded.append((type(event).__name__, heard))


def _replay(frames_: List[Dict[str, Any]]) -> _Recorder:
    recorder = _Recorder()
    forward = _Forward(recorder, "s")  # type: ignore[arg-type]
    for frame in frames_:
        if frame.get("kind") == "text":
            event = parse_message(json.dumps(frame["msg"]))
            if event is not None:
                forward(event)
    return recorder


def _captured(name: str) -> Dict[str, Any]:
    path = CAPTURES / name
    if not path.is_file():
        pytest.skip(f"captures not found at {CAPTURES}")
    return json.loads(path.read_text())


def _done_notes(recorder: _Recorder) -> Any:
    done = [heard for kind, heard in recorder.forwarded if kind == "PromptDone"]
    assert len(done) == 1
    return done[0]


def test_tiny_prompt_outputs_from_the_stream_equal_its_history() -> None:
    capture = _captured("03_ws_messages_tiny.json")
    history = _captured("04_history_and_view.json")
    recorder = _replay(capture["messages_after_post"])
    outputs = complete_outputs(_done_notes(recorder), ["3"])
    assert outputs is not None
    entry = next(iter(history.values())) if "outputs" not in history else history
    entry = _find_outputs(entry)
    assert outputs == output_files(entry)
    # Only the start and the end took the scheduler's lock: no executing/progress_state/status frame did.
    assert [kind for kind, _ in recorder.forwarded] == ["ExecutionStart", "PromptDone"]


def _find_outputs(value: Any) -> Any:
    """The `outputs` object of the (only) history entry in a capture, wherever it is nested."""
    if isinstance(value, dict):
        if "outputs" in value and "status" in value:
            return value["outputs"]
        for item in value.values():
            found = _find_outputs(item)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize("case, stream_complete", [
    ("A_identical_resubmit_fully_cached", False),  # the output node itself was cached: read history
    ("B_only_save_changed_partially_cached", True),  # only upstream nodes cached
    ("C_loadimage_subfolder_path", True),
    ("E_no_client_id", False),  # sent without our client id: the stream hears nothing of it
    ("H_previewimage_temp_output", True),
])
def test_captured_cases_use_the_stream_only_when_complete(case: str, stream_complete: bool) -> None:
    scenario = _captured("04b_cache_and_client_id_behaviour.json")[case]
    owner = next(v for k, v in scenario.items() if k.startswith("ws_owner"))
    recorder = _replay(owner)
    done = [heard for kind, heard in recorder.forwarded if kind == "PromptDone"]
    heard = done[0] if done else None
    outputs = complete_outputs(heard, wf.find_output_nodes(scenario["request"]["prompt"]))
    if not stream_complete:
        assert outputs is None
        return
    assert outputs is not None
    assert outputs == output_files(_find_outputs(scenario["history"]))


def test_no_success_a_reconnect_or_a_silent_output_node_means_history() -> None:
    notes = StreamOutputs()
    notes.started("p")
    notes.executed("p", "9", {"images": [{"filename": "a.png", "subfolder": "", "type": "output"}]})
    assert complete_outputs(notes.finished("p"), ["9"]) is None  # no execution_success heard
    notes.started("p")
    notes.executed("p", "9", {"images": [{"filename": "a.png", "subfolder": "", "type": "output"}]})
    notes.succeeded("p")
    notes.reset()  # the connection changed before the end
    assert notes.finished("p") is None
    notes.started("p")
    notes.executed("p", "9", {"images": [{"filename": "a.png", "subfolder": "", "type": "output"}]})
    notes.succeeded("p")
    assert complete_outputs(notes.finished("p"), ["9", "12"]) is None  # node 12 sent nothing
    notes.started("p")
    notes.executed("p", "9", {})  # an executed without files (cached ui missing)
    notes.succeeded("p")
    assert complete_outputs(notes.finished("p"), ["9"]) is None


def test_progress_is_thinned_but_its_start_and_end_go_through() -> None:
    notes = StreamOutputs()
    assert notes.progress_due("unheard", 1, 20)  # a prompt we did not see start: may still be DISPATCHED
    notes.started("p")
    now = 100.0
    assert notes.progress_due("p", 1, 100, now)
    assert not notes.progress_due("p", 2, 100, now + 0.5)  # moved 1 %: not worth the lock
    assert not notes.progress_due("p", 10, 100, now + 0.01)  # moved enough, but too soon
    assert notes.progress_due("p", 10, 100, now + 0.5)
    assert notes.progress_due("p", 100, 100, now + 0.51)  # the end of a bar always goes through


def test_notes_of_prompts_that_never_end_are_bounded() -> None:
    notes = StreamOutputs(limit=8)
    for i in range(100):
        notes.started(f"p{i}")
    assert len(notes) <= 8
    assert notes.finished("p99") is not None


# -- the scheduler, with fakes -------------------------------------------------------------------


class TalkativeServer(FakeServer):
    """Also sends execution_cached, executed (output node 9) and execution_success, like ComfyUI."""

    def __init__(self, name: str, cached: Optional[List[str]] = None) -> None:
        self.cached_nodes = list(cached or [])
        self.history_reads = 0
        super().__init__(name)

    def _emit(self, item: Dict[str, Any], event: Any) -> None:
        pid = item["prompt_id"]
        kind = type(event).__name__
        if kind == "PromptDone" and self.history[pid].failure is None:
            output = {"images": [{"filename": f"{pid}_ws.png", "subfolder": "", "type": "output"}]}
            super()._emit(item, Executed(pid, "9", output))
            super()._emit(item, ExecutionSuccess(pid))
        super()._emit(item, event)
        if kind == "ExecutionStart":
            super()._emit(item, ExecutionCached(pid, self.cached_nodes))


class CountingClient(FakeClient):
    def history(self, prompt_id: str) -> Any:
        assert isinstance(self.server, TalkativeServer)
        self.server.history_reads += 1
        return super().history(prompt_id)


class CountingPool(FakePool):
    def client(self, name: str) -> FakeClient:
        return CountingClient(self.fakes[name])


def _render(tmp_path: Path, server: TalkativeServer, jobs: int = 4) -> Any:
    pool = CountingPool([server])
    journal = Journal(tmp_path / "j.sqlite3")

    def factory(config: Any, callback: Any) -> FakeStream:
        return FakeStream(pool.fakes[config.name], callback)

    scheduler = Scheduler(pool, journal, job_timeout=30, poll_interval=5.0, stream_factory=factory,
                          placement_factory=Placement)
    scheduler.start()
    try:
        return scheduler.wait(scheduler.submit_plan(fake_plan(tmp_path / "out", frames(jobs))), timeout=20)
    finally:
        scheduler.stop()
        server.close()
        journal.close()


def test_history_is_not_read_when_executed_carried_every_output(tmp_path: Path) -> None:
    server = TalkativeServer("a", cached=["3"])  # an upstream node cached: does not matter
    snap = _render(tmp_path, server)
    assert snap.state is GroupState.COMPLETED
    assert server.history_reads == 0
    for job in snap.jobs:
        assert len(job.outputs) == 1
        assert Path(job.outputs[0]).read_bytes() == f"a:{job.prompt_id}_ws.png".encode()


def test_history_is_read_when_the_output_node_was_cached(tmp_path: Path) -> None:
    server = TalkativeServer("a", cached=["9"])
    snap = _render(tmp_path, server)
    assert snap.state is GroupState.COMPLETED
    assert server.history_reads == len(snap.jobs)
    for job in snap.jobs:  # the files history names (not the stream's)
        assert Path(job.outputs[0]).read_bytes() == f"a:{job.prompt_id}_00001_.png".encode()
