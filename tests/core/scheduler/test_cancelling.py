"""Cancel reports say what was done, and the event bus can be drained before unsubscribing.

Real behaviour reproduced: `cancel` printed "cancelled" and exited 0 whatever happened; the
last "frame N completed" line was lost because the printer unsubscribed before delivery.
"""

from __future__ import annotations

import threading
import time
from typing import List

from scheduler_fakes import FakeClient, FakeServer

from nuke_comfyui.core.errors import ServerUnavailable
from nuke_comfyui.core.scheduler.cancelling import CancelReport, cancel_prompts
from nuke_comfyui.core.scheduler.events import EventBus


def test_cancel_prompts_reports_deleted_interrupted_and_finished() -> None:
    server = FakeServer("a", "hang")
    client = FakeClient(server)
    try:
        ids = ["p1", "p2", "p3"]
        for pid in ids[:2]:
            server.submit({}, "c", pid)
        deadline = time.monotonic() + 5
        while (server.running is None or server.running["prompt_id"] != "p1") and time.monotonic() < deadline:
            time.sleep(0.01)
        report = cancel_prompts(client, "a", ids, "g" * 32)  # p1 runs, p2 queued, p3 never got there
    finally:
        server.close()
    assert (report.interrupted, report.deleted, report.finished) == (1, 1, 1)
    assert report.ok and "p2" in server.deleted and "p1" in server.interrupted


def test_an_unreachable_server_makes_the_report_not_ok() -> None:
    class Down:
        def prompt_state(self, prompt_id: str) -> str:
            raise ServerUnavailable("cannot reach http://127.0.0.1:9 (connection refused)", "b")

    report = cancel_prompts(Down(), "b", ["p"], "g" * 32)
    assert not report.ok and "b" in report.unreachable
    assert any("could not tell b" in line and "may still run" in line for line in report.lines())
    unconfirmed = CancelReport("g" * 32, owner="pid 7 on host", confirmed=False)
    assert not unconfirmed.ok and "did NOT confirm" in " ".join(unconfirmed.lines())
    finished = CancelReport("g" * 32, already_final=True)
    assert finished.lines() == ["group gggggggg had already finished; nothing to cancel"]


def test_drain_delivers_every_event_published_before_it() -> None:
    bus = EventBus()
    seen: List[int] = []
    gate = threading.Event()

    def slow(event: object) -> None:
        gate.wait(1.0)
        seen.append(int(event))  # type: ignore[call-overload]

    bus.subscribe(slow)
    bus.start()
    try:
        for n in range(5):
            bus.publish(n)  # type: ignore[arg-type]
        gate.set()
        assert bus.drain(timeout=5.0)
        assert seen == [0, 1, 2, 3, 4]
    finally:
        bus.stop()
