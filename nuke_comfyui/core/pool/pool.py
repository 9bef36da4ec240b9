"""The live server pool: polls every server in the background and answers "who takes this job now?".

One poller thread keeps a schedule; the probes themselves run on a small thread pool so a dead
server (connect timeouts, retries) never delays the others. Offline servers are re-probed with
exponential backoff; disabled servers are never contacted. Observers get a ServerStatus each time
a server's state changes (on the poller's threads: panels re-emit it as a Qt signal, the
scheduler only wakes its own thread).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Set, Tuple

from nuke_comfyui.core.comfy import capabilities as caps_of
from nuke_comfyui.core.comfy.capabilities import Capabilities
from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.pool.durations import DurationBook
from nuke_comfyui.core.pool.facts import FactsFeed, ServerFacts, online
from nuke_comfyui.core.pool.facts import ServerRecord as _Server
from nuke_comfyui.core.pool.learning import learn_capabilities, load_object_info
from nuke_comfyui.core.pool.own_prompts import OwnPromptIds, PromptIdObserver, TrackingClient
from nuke_comfyui.core.pool.probe import disabled_status, next_backoff, probe, probe_interval
from nuke_comfyui.core.pool.status import ServerState, ServerStatus

__all__ = ["Placement", "ServerFacts", "ServerPool", "test_connection"]
from nuke_comfyui.core.pool.connection import default_client_factory, probe_client_factory, test_connection
from nuke_comfyui.core.pool.placement import Eligibility, Placement, unfit_reason
from nuke_comfyui.core.pool.strategies import Candidate, choose

log = logging.getLogger(__name__)

#: health probes in flight at once, whatever the farm's size (each is one short HTTP call)
PROBE_WORKERS = 32


StatusCallback = Callable[[ServerStatus], None]


class ServerPool:
    """Thread-safe view of a cluster of ComfyUI servers. Use start()/stop() or as a context manager."""

    def __init__(
        self, cluster: ClusterConfig, *, client_factory: Optional[Callable[[ServerConfig], Any]] = None
    ) -> None:
        self.cluster = cluster
        self._factory = client_factory or default_client_factory
        # Test pools with their own fake clients probe through them; real ones get a lean prober.
        prober_factory = probe_client_factory if client_factory is None else None
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._stop_signal: Future = Future()  # done once stop() runs: refresh() waits on it too
        self._subscribers: List[StatusCallback] = []
        self._durations = DurationBook()
        self._turn = 0
        self._servers: Dict[str, _Server] = {}
        self._feed = FactsFeed()  # what changed, for the dispatcher's LoadIndex
        for config in cluster.servers:
            own = OwnPromptIds()
            initial = (ServerStatus(name=config.name, url=config.base_url, state=ServerState.OFFLINE,
                                    error="not checked yet")
                       if config.enabled else disabled_status(config.name, config.base_url))
            client = TrackingClient(self._factory(config), own, PromptIdObserver(self, config.name))
            self._servers[config.name] = _Server(config, client, own, initial)
            self._servers[config.name].prober = prober_factory(config) if prober_factory else client
            self._feed.touch(self._servers[config.name])
        self._executor = ThreadPoolExecutor(max_workers=max(1, min(PROBE_WORKERS, len(self._servers))),
                                            thread_name_prefix="nuke-comfyui-probe")
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> ServerPool:
        """Start polling in the background; returns at once (Nuke's main thread must never wait on
        the network). Until the first probes answer, choose() says "wait"; observers hear of each
        server as soon as its first answer arrives."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="nuke-comfyui-poller", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        self.refresh()  # every server at once, so the first decisions have facts
        self._poll_loop()

    def stop(self) -> None:
        """Stop polling; returns at once even while probes wait on the network (they are abandoned)."""
        self._stopped.set()
        if not self._stop_signal.done():
            self._stop_signal.set_result(None)
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        self._executor.shutdown(wait=False)
        for server in self._servers.values():
            for client in {id(server.client): server.client, id(server.prober): server.prober}.values():
                close = getattr(client, "close", None)
                if close is not None:
                    close()

    shutdown = stop

    def __enter__(self) -> ServerPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- reading ---------------------------------------------------------------------------

    def servers(self) -> List[ServerConfig]:
        with self._lock:
            return [s.config for s in self._servers.values()]

    def statuses(self) -> List[ServerStatus]:
        with self._lock:
            return [s.status for s in self._servers.values()]

    def status(self, name: str) -> ServerStatus:
        return self._get(name).status

    def client(self, name: str) -> Any:
        """The one client (one HTTP session) for this server; prompts submitted through it count as ours."""
        return self._get(name).client

    def subscribe(self, callback: StatusCallback) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def missing_classes(self, name: str, class_types: Set[str]) -> Set[str]:
        """Class types this server lacks (empty when it has them all or its node list is unknown)."""
        classes = self._get(name).classes
        return set() if classes is None else set(class_types) - classes

    def known_classes(self, name: str) -> Optional[FrozenSet[str]]:
        """The node classes this server listed in /object_info (None until it has answered)."""
        return self._get(name).classes

    def capabilities(self, name: str) -> Capabilities:
        """What this server's protocol can do (the oldest behaviour until it has answered)."""
        return self._get(name).caps

    def observe_prompt_ids(self, name: str, honoured: bool) -> None:
        """A POST answer showed whether the server kept our prompt_id; correct the cache if needed."""
        with self._lock:
            server = self._get(name)
            learned = caps_of.observed_prompt_ids(server.caps, honoured)
            if learned is server.caps:
                return
            log.info("%s %s client-chosen prompt ids", name, "honours" if honoured else "ignores")
            server.caps = learned
            server.client.capabilities = learned
            self._feed.touch(server)
            status = replace(server.status, capabilities=learned)
        self._publish(server, status)

    def capabilities_pending(self) -> List[str]:
        """Enabled servers whose node lists are still unknown because they were never probed yet."""
        with self._lock:
            return [name for name, s in self._servers.items() if s.config.enabled and not s.capability_checked
                    and s.status.checked_at is None]

    # -- changing --------------------------------------------------------------------------

    def object_infos(self) -> Dict[str, Dict[str, Any]]:
        """The cached `/object_info` of every enabled server that answered it, by server name."""
        with self._lock:
            return {name: s.object_info for name, s in self._servers.items()
                    if s.config.enabled and s.object_info is not None}

    def object_info(self) -> Dict[str, Any]:
        """One `/object_info` over the enabled servers (each class as the first server declares it)."""
        from nuke_comfyui.core.object_info import merge

        return merge(self.object_infos())

    def refresh(self, timeout: Optional[float] = None) -> List[ServerStatus]:
        """Probe every enabled server now (PROBE_WORKERS at a time) and wait for the answers.

        With `timeout`, return after that many seconds whatever the farm's size: a server whose
        probe is still on the wire then shows offline, "no answer within N s" (its probe goes on).
        """
        started = time.time()
        with self._lock:
            due = [s for s in self._servers.values() if s.config.enabled and not s.probing]
            for server in due:
                server.probing = True
        try:
            pending = {self._executor.submit(self._probe, server, True) for server in due}
        except RuntimeError:  # stop() shut the executor meanwhile (its join gave up under load)
            return self.statuses()
        deadline = None if timeout is None else time.monotonic() + timeout
        while pending and not self._stopped.is_set():  # stop() ends this wait at once
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            _, pending = wait(pending | {self._stop_signal}, timeout=left, return_when=FIRST_COMPLETED)
            pending.discard(self._stop_signal)
        statuses = self.statuses()
        if not pending or timeout is None:  # all answered, or stop() ended the wait
            return statuses
        return [status if not status.enabled or (status.checked_at or 0) >= started else replace(
            status, state=ServerState.OFFLINE, error=f"no answer to the status probe within {timeout:g} s")
            for status in statuses]

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Switch a server on or off for this session (the settings file is the panel's business)."""
        with self._lock:
            server = self._get(name)
            server.config = server.config.model_copy(update={"enabled": enabled})
            self._feed.touch(server)
            if enabled:
                status = ServerStatus(name=name, url=server.config.base_url, state=ServerState.OFFLINE,
                                      error="not checked yet")
                server.next_probe = 0.0
                server.backoff = 0.0
            else:
                status = disabled_status(name, server.config.base_url)
        self._publish(server, status)
        self._wake.set()

    def report_failure(self, name: str, reason: str) -> None:
        """The scheduler lost this server (dead socket, refused POST): mark it offline now, back off."""
        with self._lock:
            server = self._get(name)
            if not server.config.enabled:
                return
            status = ServerStatus(name=name, url=server.config.base_url, state=ServerState.OFFLINE,
                                  error=reason, checked_at=time.time())
            server.failed_at = time.monotonic()
            server.backoff = self._next_backoff(server.backoff)
            server.next_probe = time.monotonic() + server.backoff
        self._publish(server, status)

    def report_stall(self, name: str, note: Optional[str]) -> None:
        """The scheduler moved a prompt away from this server, which showed no progress on it (`note`
        says so on its status), or a prompt of ours moved there again (None). Probes keep the note."""
        with self._lock:
            server = self._get(name)
            server.stalled = note
            status = server.status
        self._publish(server, status)

    def record_duration(self, name: str, key: str, seconds: float) -> None:
        self._durations.record(name, key, seconds)

    def expected_duration(self, name: str, key: str) -> Optional[float]:
        return self._durations.expected(name, key)

    def test_connection(self, server: ServerConfig) -> ServerStatus:
        return test_connection(server, client_factory=self._factory)

    # -- choosing --------------------------------------------------------------------------

    def choose(self, placement: Placement, in_flight: Mapping[str, int], backlog: int = 1,
               running_s: Optional[Mapping[str, float]] = None) -> Optional[str]:
        """The server that should take this job now, None to wait, NoCapableServer if none ever can.

        One answer from scratch, O(servers): the dispatcher uses a `LoadIndex` instead
        (load_index.py), which gives the same answers at a cost independent of the server count.
        `backlog`: jobs of this kind waiting client-side (this one included); `running_s`: seconds
        our oldest running job on each server has run; `fastest` uses both.
        """
        running_s = running_s or {}
        strategy = placement.strategy or self.cluster.strategy
        with self._lock:
            fit = self.eligibility(placement)
            fit.check()
            candidates = [Candidate(
                name=name, ours=in_flight.get(name, 0), others=server.others,
                max_concurrent=server.config.max_concurrent, priority=server.config.priority,
                expected_s=self._durations.expected(name, placement.duration_key),
                running_s=running_s.get(name, 0.0),
            ) for name, server in self._servers.items() if name in fit.fit and online(server)]
            chosen = choose(strategy, candidates, self._turn, backlog)
            if chosen is not None and strategy == "round-robin":
                self._turn += 1
            return chosen

    def eligibility(self, placement: Placement) -> Eligibility:
        """The servers that fit `placement` (offline ones included), O(servers): callers cache it
        until `facts_since` reports a new eligibility epoch."""
        fit, unfit, considered = set(), {}, 0
        with self._lock:
            for name, server in self._servers.items():
                if not server.config.enabled or name in placement.exclude:
                    continue
                considered += 1
                reason = unfit_reason(server.config, server.caps, server.classes, server.status.vram_total,
                                      placement)
                if reason:
                    unfit[name] = reason
                else:
                    fit.add(name)
            return Eligibility(self._feed.epoch, frozenset(fit), unfit, considered)

    def facts_since(self, version: int) -> Tuple[int, int, List[ServerFacts]]:
        """(version, eligibility epoch, facts of every server changed after `version`), O(changes);
        version 0 gives every server (see FactsFeed)."""
        with self._lock:
            return self._feed.since(version)

    def expected_durations(self, names: List[str], key: str) -> List[Optional[float]]:
        return self._durations.expected_many(names, key)

    def durations_floor(self, key: str) -> Optional[float]:
        """A lower bound of every learned duration for `key` (see DurationBook.floor)."""
        return self._durations.floor(key)

    # -- polling ---------------------------------------------------------------------------

    def _poll_loop(self) -> None:
        while not self._stopped.is_set():
            now = time.monotonic()
            with self._lock:
                enabled = [s for s in self._servers.values() if s.config.enabled]
                due = [s for s in enabled if not s.probing and s.next_probe <= now]
                for server in due:
                    server.probing = True
                upcoming = [s.next_probe for s in enabled if not s.probing]
            for server in due:
                try:
                    self._executor.submit(self._probe, server, False)
                except RuntimeError:  # executor shut down while stopping
                    return
            delay = min(upcoming, default=now + self.cluster.poll_interval) - now
            self._wake.wait(max(0.01, min(delay, 1.0)))
            self._wake.clear()

    def _probe(self, server: _Server, force_stats: bool) -> None:
        try:
            now = time.monotonic()
            with_stats = force_stats or now >= server.next_stats
            # `ours` is the live set: a prompt we send while the probe is on the wire is still ours
            status, others = probe(server.prober or server.client, server.config.name, server.config.base_url,
                                   with_stats=with_stats, previous=server.status, ours=server.own)
            came_back = status.state.usable and not server.status.state.usable
            if status.state.usable and (came_back or not server.capability_checked):
                load_object_info(server, self._lock, self._feed)
            status = learn_capabilities(server, status, came_back, self._lock, self._feed)
            with self._lock:
                if not server.config.enabled:
                    return
                if status.state.usable and server.failed_at >= now:
                    return  # sent before the scheduler lost the server: it must not bring it back
                server.others = others
                self._feed.touch(server)
                if with_stats and status.state.usable:
                    server.next_stats = now + self.cluster.stats_interval
                if status.state == ServerState.OFFLINE:
                    server.backoff = self._next_backoff(server.backoff)
                    server.next_probe = time.monotonic() + server.backoff
                else:
                    server.backoff = 0.0
                    server.next_probe = time.monotonic() + self._probe_interval()
            self._publish(server, status)
        except Exception:  # a bug in one probe must never kill polling of the whole farm
            log.exception("probing %s failed unexpectedly", server.config.name)
            with self._lock:
                server.next_probe = time.monotonic() + self._probe_interval()
        finally:
            with self._lock:
                server.probing = False

    def _probe_interval(self) -> float:
        return probe_interval(self.cluster.poll_interval, sum(1 for s in self._servers.values() if s.config.enabled))

    def _next_backoff(self, current: float) -> float:
        return next_backoff(self.cluster.poll_interval, current)

    def _publish(self, server: _Server, status: ServerStatus) -> None:
        with self._lock:
            if not status.state.usable:
                server.stalled = None  # gone or restarted: whatever stalled there is over
            if status.stalled != server.stalled:
                status = replace(status, stalled=server.stalled)
            changed = not status.same_as(server.status)
            server.status = status
            self._feed.touch(server)
            subscribers = list(self._subscribers) if changed else []
        for callback in subscribers:
            try:
                callback(status)
            except Exception:  # an observer's bug must not stop the others or the poller
                log.exception("status observer %r failed", callback)

    def _get(self, name: str) -> _Server:
        try:
            return self._servers[name]
        except KeyError:
            known = ", ".join(self._servers) or "none"
            raise KeyError(f"no server named {name!r} (configured: {known})") from None
