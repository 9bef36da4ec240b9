"""Tracking against in-memory fakes: prompts are sent only once the server's event stream listens.

Real-server behaviour reproduced: jobs were sent before the stream was connected, with a
throwaway client id, so ComfyUI (which routes a prompt's events to the client id it was queued
with) told nobody of their completion and only a 0.5 s poll noticed, leaving the server idle.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Dict

from scheduler_fakes import FakePool, FakeServer, FakeStream, Placement, fake_plan, frames, wait_until

from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.scheduler import GroupState, Scheduler
from nuke_comfyui.core.scheduler.jobs import JobState


class SlowStream(FakeStream):
    """Connects 0.4 s after start, like a WebSocket handshake to a busy server."""

    def start(self) -> None:
        threading.Timer(0.4, self.connect, kwargs={"reconnect": False}).start()


def test_prompts_wait_for_the_event_stream_and_use_its_client_id(tmp_path: Path) -> None:
    server = FakeServer("a", duration=0.01)
    pool = FakePool([server])
    journal = Journal(tmp_path / "j.sqlite3")
    streams: Dict[str, Any] = {}

    def factory(config: Any, callback: Callable[[Any], None]) -> SlowStream:
        stream = streams[config.name] = SlowStream(pool.fakes[config.name], callback)
        return stream

    scheduler = Scheduler(pool, journal, job_timeout=30, poll_interval=5.0, stream_factory=factory,
                          placement_factory=Placement)
    scheduler.start()
    try:
        gid = scheduler.submit_plan(fake_plan(tmp_path / "out", frames(4)))
        snap = scheduler.wait(gid, timeout=10)
    finally:
        scheduler.stop()
        server.close()
        journal.close()
    assert snap.state is GroupState.COMPLETED
    # Every prompt carried the connected stream's client id, so its events came back (no 5 s poll).
    assert {item["client_id"] for item in server.submitted} == {server.stream_client_id}
    assert server.stream_client_id is not None


def test_a_running_prompt_is_stamped_for_fastest_and_the_stamp_goes_with_it(make_harness, tmp_path: Path) -> None:
    """mark_running tells the dispatcher when our prompt started executing; its end forgets it."""
    server = FakeServer("a", duration=0.3)
    h = make_harness(server)
    group_id = h.scheduler.submit_plan(fake_plan(tmp_path / "out", frames(2)))
    dispatcher = h.scheduler.state.dispatcher
    wait_until(lambda: bool(dispatcher.running_since.get("a")))
    with h.scheduler.state.lock:
        stamps = dict(dispatcher.running_since["a"])
        running = [job for job in h.scheduler.state.by_prompt.values() if job.state is JobState.RUNNING]
    assert len(stamps) == 1 and [job.prompt_id for job in running] == list(stamps)
    assert list(stamps.values()) == [running[0].started_at]
    assert h.scheduler.wait(group_id, timeout=30).done == 2
    assert dispatcher.running_since == {}
