"""Scheduler events from worker threads reach the node only on the main thread, coalesced, by name."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, List

import nuke

from nuke_comfyui.host.main_thread import call_on_main
from nuke_comfyui.host.watch import GroupWatcher


@dataclass
class _Group:
    group_id: str


@dataclass
class _Event:
    group: _Group


@dataclass
class _Snap:
    group_id: str
    state: str = "running"


@dataclass
class SchedulerStandIn:
    """Just subscribe/view, the two calls the watcher makes (scheduler contract; never the O(jobs) snapshot)."""

    state: str = "running"
    callbacks: List[Callable[[Any], None]] = field(default_factory=list)
    snapshots: int = 0

    def subscribe(self, callback):
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def view(self, group_id):
        self.snapshots += 1
        return _Snap(group_id, self.state)

    def emit_from_worker(self, group_id, count=1):
        def run():
            for _ in range(count):
                for cb in list(self.callbacks):
                    cb(_Event(_Group(group_id)))

        t = threading.Thread(target=run)
        t.start()
        t.join()


def test_worker_events_are_applied_on_the_main_thread_coalesced():
    node = nuke.createNode("ComfyRender")
    applied = []

    def apply(name, snap):
        assert threading.current_thread() is threading.main_thread()
        applied.append((name, nuke.toNode(name)["status"].value(), snap.group_id))

    scheduler = SchedulerStandIn()
    watcher = GroupWatcher(scheduler, node.name(), "g1", apply)
    watcher.start()
    scheduler.emit_from_worker("g1", count=50)
    scheduler.emit_from_worker("other-group", count=5)
    assert applied == []                         # nothing touched nuke off the main thread
    assert nuke._fake_pump() == 1                # 50 events -> one queued update
    assert applied == [(node.name(), "idle", "g1")]


def test_watcher_stops_after_the_group_finishes():
    scheduler = SchedulerStandIn(state="completed")
    watcher = GroupWatcher(scheduler, "ComfyRender1", "g1", lambda name, snap: None)
    watcher.start()
    scheduler.emit_from_worker("g1")
    nuke._fake_pump()
    assert not watcher.active and scheduler.callbacks == []


def test_events_on_the_main_thread_never_call_execute_in_main_thread():
    scheduler = SchedulerStandIn()
    watcher = GroupWatcher(scheduler, "ComfyRender1", "g1", lambda name, snap: None)
    watcher.start()
    for cb in scheduler.callbacks:
        cb(_Event(_Group("g1")))                # the fake raises if executeInMainThread is called here
    assert nuke._fake_pump() == 0


def test_call_on_main_runs_directly_on_main_and_queues_from_workers():
    seen = []
    call_on_main(seen.append, "main")
    assert seen == ["main"]
    t = threading.Thread(target=lambda: call_on_main(seen.append, "worker"))
    t.start()
    t.join()
    assert seen == ["main"]
    nuke._fake_pump()
    assert seen == ["main", "worker"]
