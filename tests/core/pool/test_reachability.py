"""A farm none of whose servers answers is said at once, one line per server (core/pool/reachability.py)."""

from __future__ import annotations

import time
from typing import List

import pytest

from nuke_comfyui.core.pool.availability import AvailabilityLog
from nuke_comfyui.core.pool.reachability import FarmUnreachable, check_reachable, server_problem
from nuke_comfyui.core.pool.status import ServerState, ServerStatus

REFUSED = ("cannot reach http://10.0.0.5:8188 (connection refused); check that ComfyUI runs there and the "
           "host/port are right")


def status(name: str, state: ServerState, *, probed: bool = True, error: str = "",
           enabled: bool = True) -> ServerStatus:
    return ServerStatus(name=name, url=f"http://{name}:8188", state=state, enabled=enabled, error=error or None,
                        checked_at=time.time() if probed else None)


class Pool:
    def __init__(self, statuses: List[ServerStatus]) -> None:
        self.now = statuses
        self.subscribers: list = []

    def statuses(self) -> List[ServerStatus]:
        return list(self.now)

    def subscribe(self, callback):  # type: ignore[no-untyped-def]
        self.subscribers.append(callback)
        return lambda: self.subscribers.remove(callback)

    def publish(self, new: ServerStatus) -> None:
        self.now = [new if s.name == new.name else s for s in self.now]
        for callback in list(self.subscribers):
            callback(new)


def test_every_server_down_raises_with_one_line_each_and_what_to_try() -> None:
    pool = Pool([status("gpu01", ServerState.OFFLINE, error=REFUSED),
                 status("gpu02", ServerState.OFFLINE, probed=False, error="not checked yet"),
                 status("off", ServerState.DISABLED, enabled=False)])
    clock = iter([0.0, 0.0, 9.0])
    with pytest.raises(FarmUnreachable) as caught:
        check_reachable(pool, wait=8.0, hint="try X", clock=lambda: next(clock), sleep=lambda _: None)
    lines = str(caught.value).splitlines()
    assert lines[0] == "none of the 2 servers answers:"
    assert lines[1].split() == ["gpu01", "http://gpu01:8188", "connection", "refused"]
    assert lines[2].split() == ["gpu02", "http://gpu02:8188", "no", "answer", "within", "8", "s"]
    assert "`nuke-comfyui status`" in lines[3] and lines[3].endswith("; try X") and len(lines) == 4


def test_a_server_that_answers_at_all_is_left_to_the_scheduler() -> None:
    for answering in (status("gpu02", ServerState.ONLINE), status("gpu02", ServerState.BUSY),
                      status("gpu02", ServerState.ERROR, error="refused our credentials")):
        pool = Pool([status("gpu01", ServerState.OFFLINE, error=REFUSED), answering])
        check_reachable(pool, wait=0.0, sleep=lambda _: None)  # returns: someone answered
    # only the servers the render may use count
    pool = Pool([status("gpu01", ServerState.OFFLINE, error=REFUSED), status("gpu02", ServerState.ONLINE)])
    with pytest.raises(FarmUnreachable, match="the server does not answer"):
        check_reachable(pool, ["gpu01"], wait=0.0, sleep=lambda _: None)
    check_reachable(Pool([]), wait=0.0)  # no server at all: the scheduler's to report


def test_server_problem_is_short() -> None:
    assert server_problem(status("a", ServerState.OFFLINE, error=REFUSED)) == "connection refused"
    long = status("a", ServerState.ERROR, error="x" * 500)
    assert len(server_problem(long)) == 120 and server_problem(long).endswith("...")


def test_availability_names_servers_down_the_whole_render_and_lost_ones() -> None:
    now = [0.0]
    pool = Pool([status("gpu01", ServerState.ONLINE), status("gpu02", ServerState.OFFLINE, error=REFUSED),
                 status("gpu03", ServerState.ONLINE), status("gpu04", ServerState.ONLINE),
                 status("gpu05", ServerState.OFFLINE, probed=False)])
    log = AvailabilityLog(pool, clock=lambda: now[0])
    now[0] = 12.0
    pool.publish(status("gpu03", ServerState.OFFLINE, error=REFUSED))
    pool.publish(status("gpu04", ServerState.ERROR, error="GET /queue answered HTTP 502"))
    pool.publish(status("gpu04", ServerState.ONLINE))
    assert log.problems() == [
        "gpu02 unreachable the whole render (connection refused)",
        "gpu03 unreachable from 12 s into the render to its end (connection refused); its jobs went to the "
        "other servers",
        "gpu04 was down once during the render and came back (GET /queue answered HTTP 502)",
    ]
    log.stop()
    assert pool.subscribers == []
    only = AvailabilityLog(Pool([status("gpu02", ServerState.OFFLINE, error=REFUSED)]), ["gpu01"])
    assert only.problems() == []  # a server the render may not use is not its problem


def test_the_wait_counts_from_when_the_pool_began_probing() -> None:
    """A long-lived session (Nuke) whose only server accepts connections and never answers: the first
    check waits the bound; a later one, the bound long past since the pool started, says it at once."""
    pool = Pool([status("gpu03", ServerState.OFFLINE, probed=False, error="not checked yet")])
    slept: List[float] = []
    with pytest.raises(FarmUnreachable, match="no answer within 8 s"):
        check_reachable(pool, wait=8.0, started=100.0, clock=lambda: 130.0, sleep=slept.append)
    assert slept == []  # 30 s since the pool started: nothing to wait for
    with pytest.raises(FarmUnreachable):
        clock = iter([100.0, 104.0, 108.5])
        check_reachable(pool, wait=8.0, started=100.0, clock=lambda: next(clock), sleep=slept.append)
    assert len(slept) == 2  # a fresh session waits the bound, no longer
