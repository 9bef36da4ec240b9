"""ServerPool with a hand-written fake client: states, backoff, observers, own-vs-others, choosing."""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

import pytest
from pool_answers import Item, Queue, Stats

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.errors import AuthError, NoCapableServer, ProtocolError, ServerUnavailable
from nuke_comfyui.core.pool import Placement, ServerPool, ServerState, test_connection


class FakeClient:
    """Answers like a ComfyClient; `error` makes every call raise it."""

    def __init__(self, server: ServerConfig) -> None:
        self.server = server
        self.queue_answer = Queue()
        self.stats = Stats()
        self.classes: Dict[str, Any] = {"LoadImage": {}, "SaveImage": {}, "KSampler": {}}
        self.error: Optional[Exception] = None
        self.calls: List[str] = []
        self.submitted: List[str] = []

    def _maybe_fail(self, name: str) -> None:
        self.calls.append(name)
        if self.error is not None:
            raise self.error

    def queue(self) -> Queue:
        self._maybe_fail("queue")
        return self.queue_answer

    def system_stats(self) -> Stats:
        self._maybe_fail("system_stats")
        return self.stats

    def object_info(self) -> Dict[str, Any]:
        self._maybe_fail("object_info")
        return self.classes

    def submit(self, prompt: Any, *, prompt_id: str, **_: Any) -> None:
        self.submitted.append(prompt_id)

    def close(self) -> None:
        pass


def make_pool(*servers: ServerConfig, **cluster: Any) -> tuple:
    clients: Dict[str, FakeClient] = {}

    def factory(server: ServerConfig) -> FakeClient:
        clients[server.name] = FakeClient(server)
        return clients[server.name]

    pool = ServerPool(ClusterConfig(servers=list(servers), poll_interval=0.05, **cluster), client_factory=factory)
    return pool, clients


def state(pool: ServerPool, name: str) -> ServerState:
    return pool.status(name).state


def test_states_follow_the_answers_and_typed_errors() -> None:
    pool, clients = make_pool(ServerConfig(name="a"), ServerConfig(name="b", port=8189))
    pool.refresh()
    assert state(pool, "a") is ServerState.ONLINE
    clients["a"].queue_answer = Queue(running=[Item("x")], pending=[Item("y")])
    clients["b"].error = ServerUnavailable("connection refused", "b")
    pool.refresh()
    status = pool.status("a")
    assert (status.state, status.queue_running, status.queue_pending) == (ServerState.BUSY, 1, 1)
    assert status.vram_total == 8 * 2**30 and status.comfyui_version == "0.8.0"
    offline = pool.status("b")
    assert offline.state is ServerState.OFFLINE
    assert "http://127.0.0.1:8189" in (offline.error or "") and "connection refused" in (offline.error or "")
    clients["b"].error = AuthError("HTTP 401", "b")
    pool.refresh()
    assert state(pool, "b") is ServerState.ERROR and "credentials" in (pool.status("b").error or "")
    clients["b"].error = ProtocolError("not JSON", "b")
    pool.refresh()
    assert state(pool, "b") is ServerState.ERROR and "not JSON" in (pool.status("b").error or "")


def test_disabled_servers_are_never_probed_and_set_enabled_switches() -> None:
    pool, clients = make_pool(ServerConfig(name="a"), ServerConfig(name="off", enabled=False))
    pool.refresh()
    assert clients["off"].calls == []
    assert state(pool, "off") is ServerState.DISABLED
    pool.set_enabled("off", True)
    pool.refresh()
    assert state(pool, "off") is ServerState.ONLINE
    pool.set_enabled("a", False)
    before = len(clients["a"].calls)
    pool.refresh()
    assert len(clients["a"].calls) == before and state(pool, "a") is ServerState.DISABLED


def test_offline_backoff_grows_and_resets_on_success() -> None:
    pool, clients = make_pool(ServerConfig(name="a"))
    clients["a"].error = ServerUnavailable("refused", "a")
    backoffs = []
    for _ in range(4):
        pool.refresh()
        backoffs.append(pool._servers["a"].backoff)
    assert backoffs == sorted(backoffs) and backoffs[-1] > backoffs[0]
    assert backoffs[-1] <= 10 * 0.05 + 1e-9  # capped
    clients["a"].error = None
    pool.refresh()
    assert pool._servers["a"].backoff == 0.0 and state(pool, "a") is ServerState.ONLINE


def test_observers_get_changes_only_and_a_broken_one_does_not_stop_the_others() -> None:
    pool, clients = make_pool(ServerConfig(name="a"))
    seen: List[ServerState] = []

    def broken(_status: Any) -> None:
        raise RuntimeError("observer bug")

    pool.subscribe(broken)
    unsubscribe = pool.subscribe(lambda status: seen.append(status.state))
    pool.refresh()
    pool.refresh()  # nothing changed: no event
    clients["a"].queue_answer = Queue(running=[Item("x")])
    pool.refresh()
    assert seen == [ServerState.ONLINE, ServerState.BUSY]
    unsubscribe()
    clients["a"].queue_answer = Queue()
    pool.refresh()
    assert len(seen) == 2


def test_only_other_users_jobs_count_against_a_server() -> None:
    pool, clients = make_pool(ServerConfig(name="a"))
    pool.client("a").submit({}, prompt_id="ours-1", client_id="c")
    assert clients["a"].submitted == ["ours-1"]
    clients["a"].queue_answer = Queue(running=[Item("ours-1")], pending=[Item("theirs")])
    pool.refresh()
    assert pool._servers["a"].others == 1
    placement = Placement(strategy="least-loaded")
    assert pool.choose(placement, {"a": 1}) is None  # 1 ours + 1 theirs fills 1 slot + 1 prefetch
    clients["a"].queue_answer = Queue(running=[Item("ours-1")])
    pool.refresh()
    assert pool.choose(placement, {"a": 1}) == "a"


def test_capabilities_job_types_and_vram_decide_where_a_job_may_go() -> None:
    pool, clients = make_pool(ServerConfig(name="a"), ServerConfig(name="b", job_types=["upscale"]))
    clients["a"].classes = {"LoadImage": {}}
    pool.refresh()
    assert pool.missing_classes("a", {"LoadImage", "KSampler"}) == {"KSampler"}
    assert pool.choose(Placement(class_types={"KSampler"}, job_type="upscale", strategy="least-loaded"), {}) == "b"
    with pytest.raises(NoCapableServer) as caught:
        pool.choose(Placement(class_types={"KSampler"}, job_type="comp", strategy="least-loaded"), {})
    message = str(caught.value)
    assert "a lacks KSampler" in message and "b takes only job types upscale" in message
    with pytest.raises(NoCapableServer, match="VRAM"):
        pool.choose(Placement(min_vram=64 * 2**30, strategy="fastest"), {})


def test_report_failure_marks_offline_until_the_next_probe() -> None:
    pool, _clients = make_pool(ServerConfig(name="a"))
    pool.refresh()
    events: List[Any] = []
    pool.subscribe(events.append)
    pool.report_failure("a", "socket dropped mid-job")
    assert state(pool, "a") is ServerState.OFFLINE and pool.status("a").error == "socket dropped mid-job"
    assert pool.choose(Placement(strategy="fastest"), {}) is None
    pool.refresh()
    assert state(pool, "a") is ServerState.ONLINE and [e.state for e in events][-1] is ServerState.ONLINE


def test_a_stall_note_stays_on_the_status_across_probes_until_cleared_or_the_server_goes() -> None:
    """The scheduler's report_stall (core/scheduler/stall_watch.py): observers hear it at once, every
    later probe of the answering server keeps it, None clears it, and so does the server going away
    (a restart is the usual cure)."""
    pool, clients = make_pool(ServerConfig(name="a"), ServerConfig(name="b"))
    pool.refresh()
    events: List[Any] = []
    pool.subscribe(events.append)
    pool.report_stall("a", "stalled: no progress for 40 s on our prompt (at 14:03:12); ...")
    assert events[-1].name == "a" and events[-1].stalled.startswith("stalled: no progress for 40 s")
    assert events[-1].state is ServerState.ONLINE and events[-1].state_text == "stalled"
    pool.refresh()
    assert pool.status("a").stalled and pool.status("a").state_text == "stalled"
    assert pool.status("b").stalled is None and pool.status("b").state_text == "online"
    assert pool.status("a").to_json()["stalled"].startswith("stalled: no progress")  # `status --json`
    pool.report_stall("a", None)
    assert events[-1].stalled is None and pool.status("a").state_text == "online"

    pool.report_stall("b", "stalled: no progress for 9 s on our prompt")
    clients["b"].error = ServerUnavailable("connection refused", "b")
    pool.refresh()
    assert pool.status("b").state is ServerState.OFFLINE and pool.status("b").stalled is None
    clients["b"].error = None
    pool.refresh()
    assert pool.status("b").state is ServerState.ONLINE and pool.status("b").stalled is None


def test_background_poller_notices_a_change_without_refresh() -> None:
    pool, clients = make_pool(ServerConfig(name="a"))
    changed = threading.Event()
    with pool:
        pool.subscribe(lambda status: changed.set() if status.state is ServerState.OFFLINE else None)
        clients["a"].error = ServerUnavailable("refused", "a")
        assert changed.wait(5)


def test_test_connection_probes_once_without_a_pool() -> None:
    made: List[FakeClient] = []

    def factory(server: ServerConfig) -> FakeClient:
        made.append(FakeClient(server))
        return made[-1]

    status = test_connection(ServerConfig(name="x"), client_factory=factory)
    assert status.state is ServerState.ONLINE and made[0].calls == ["queue", "system_stats"]
    assert test_connection(ServerConfig(name="y", enabled=False), client_factory=factory).state is ServerState.DISABLED


def test_a_big_farm_is_probed_at_most_twenty_servers_a_second() -> None:
    from nuke_comfyui.core.pool.probe import MAX_PROBES_PER_S, probe_interval

    assert MAX_PROBES_PER_S == 20
    assert probe_interval(0.5, 4) == 0.5  # a small farm: every poll_interval
    assert probe_interval(0.5, 100) == 5.0  # 100 servers: 20 probes a second in all
    assert probe_interval(2.0, 100) == 5.0 and probe_interval(10.0, 100) == 10.0
    pool, _ = make_pool(*[ServerConfig(name=f"s{i}", port=8300 + i) for i in range(60)])
    assert pool._probe_interval() == 3.0
    pool.set_enabled("s0", False)
    assert pool._probe_interval() == 59 / 20


def test_status_same_as_ignores_only_the_measurement_noise() -> None:
    """The pool publishes a status only when it changed; latency, probe time and free VRAM are noise."""
    from nuke_comfyui.core.pool.status import ServerState, ServerStatus

    base = ServerStatus("a", "http://127.0.0.1:1", ServerState.ONLINE, vram_total=8, vram_free=4,
                        latency_ms=2.0, checked_at=1.0)
    noisy = ServerStatus("a", "http://127.0.0.1:1", ServerState.ONLINE, vram_total=8, vram_free=1,
                         latency_ms=9.0, checked_at=5.0)
    assert base.same_as(noisy) and not base.same_as(None)
    assert not base.same_as(ServerStatus("a", "http://127.0.0.1:1", ServerState.BUSY, vram_total=8))
    assert not base.same_as(ServerStatus("a", "http://127.0.0.1:1", ServerState.ONLINE, vram_total=8,
                                         queue_pending=1))


def test_a_probe_answered_before_a_reported_loss_does_not_bring_the_server_back() -> None:
    """Issue 28, item 11: the scheduler reports a server lost while a probe of it is on the wire; that
    probe's (older) "online" must not undo the loss, or the dispatcher sends it work at once."""
    pool, clients = make_pool(ServerConfig(name="a"))
    gate, entered = threading.Event(), threading.Event()
    answer = clients["a"].queue

    def slow_queue() -> Queue:
        entered.set()
        gate.wait(5)  # the probe's answer left the server before it died ...
        return answer()

    clients["a"].queue = slow_queue  # type: ignore[method-assign]
    probing = threading.Thread(target=pool.refresh)
    probing.start()
    assert entered.wait(5)
    pool.report_failure("a", "connection refused")  # ... and the scheduler lost it meanwhile
    gate.set()
    probing.join(5)
    assert pool.status("a").state is ServerState.OFFLINE
    assert pool.status("a").error == "connection refused"
    pool.stop()


def test_refresh_with_a_timeout_returns_whatever_the_slowest_server_does() -> None:
    """Issue 28, scale: `status` waits a bounded time; a server whose probe hangs shows "no answer"."""
    pool, clients = make_pool(ServerConfig(name="quick"), ServerConfig(name="hung"))
    release = threading.Event()
    answer = clients["hung"].queue

    def hung_queue() -> Queue:
        release.wait(10)
        return answer()

    clients["hung"].queue = hung_queue  # type: ignore[method-assign]
    try:
        statuses = {s.name: s for s in pool.refresh(timeout=0.5)}
    finally:
        release.set()
        pool.stop()
    assert statuses["quick"].state is ServerState.ONLINE
    assert statuses["hung"].state is ServerState.OFFLINE
    assert statuses["hung"].error == "no answer to the status probe within 0.5 s"


def test_real_pools_probe_with_a_lean_client() -> None:
    """Probes use their own client: one attempt, a 1 s connect timeout (the next probe is the retry)."""
    pool = ServerPool(ClusterConfig(servers=[ServerConfig(name="a", port=9)]))
    try:
        record = pool._servers["a"]
        assert record.prober is not record.client
        assert record.prober.retries == 0 and record.prober.timeout[0] == 1.0
        assert pool._executor._max_workers == 1  # bounded by the farm (and by PROBE_WORKERS)
    finally:
        pool.stop()


def test_refresh_after_stop_returns_the_statuses_it_has() -> None:
    """stop() joins the poller for 5 s and then shuts the probe executor; under load the poller's
    first refresh() can come after that. It returns what it has instead of raising "cannot schedule
    new futures after shutdown" on the poller thread (once printed at the end of a CI run)."""
    pool, _ = make_pool(ServerConfig(name="a"))
    pool.stop()
    statuses = pool.refresh()
    assert [status.name for status in statuses] == ["a"] and statuses[0].state is ServerState.OFFLINE
