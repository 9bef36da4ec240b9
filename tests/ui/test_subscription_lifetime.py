"""A panel's subscription against the threads that deliver to it (ui/pane_life.py).

Seen in CI (PySide2 5.15, Python 3.9): a segfault in `Subscription._deliver` on a pool probe
thread, emitting on the Server Status panel's bridge while the main thread deleted the panel.
`stop()` did not wait for a delivery already past its "still subscribed?" check, and the bridge,
a child of the panel, was deleted with it. Now a delivery holds the subscription's lock (stop()
waits for it), and the bridge has no parent: the subscription keeps it alive while a delivery can
come, so an emit never meets a deleted object (its receivers, the panel's, are dropped by Qt).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, List

import pytest

from tests.ui.fakes import FakePool, FakeStatus

pytestmark = pytest.mark.qt


def test_the_panels_bridges_have_no_parent(qtbot: Any) -> None:
    from nuke_comfyui.ui.results_panel import JobResultsPanel
    from nuke_comfyui.ui.status_panel import ServerStatusPanel
    from tests.ui.fakes import FakeScheduler

    status = ServerStatusPanel(FakePool([FakeStatus("gpu-a", "http://127.0.0.1:8188", "online")]), interval=5)
    results = JobResultsPanel(FakeScheduler())
    for panel in (status, results):
        qtbot.addWidget(panel)
        assert panel._bridge.parent() is None
        assert panel.subscription._keep is panel._bridge  # alive while a delivery can come
    status.shutdown()


def test_stop_waits_for_a_delivery_running_on_another_thread() -> None:
    from nuke_comfyui.ui.pane_life import Subscription

    delivered: List[Any] = []
    entered, release = threading.Event(), threading.Event()
    subscribers: List[Callable[[Any], None]] = []

    def subscribe(deliver: Callable[[Any], None]) -> Callable[[], None]:
        subscribers.append(deliver)
        return lambda: subscribers.remove(deliver)

    def callback(item: Any) -> None:
        entered.set()
        release.wait(5)
        delivered.append(item)

    subscription = Subscription(subscribe, callback)
    subscription.start()
    deliver = subscribers[0]
    poller = threading.Thread(target=deliver, args=("first",))
    poller.start()
    assert entered.wait(5)
    stopped = threading.Event()
    stopper = threading.Thread(target=lambda: (subscription.stop(), stopped.set()))
    stopper.start()
    assert not stopped.wait(0.3), "stop() returned while a delivery was still running"
    release.set()
    assert stopped.wait(5)
    poller.join(5)
    stopper.join(5)
    deliver("late")  # a poller thread that took the callback before stop(): nothing more is delivered
    assert delivered == ["first"] and not subscribers


def test_a_slot_may_stop_its_own_subscription_during_a_delivery() -> None:
    """A delivery made on the GUI thread runs its slots at once; one that stops the subscription
    must not deadlock on the delivery's own lock."""
    from nuke_comfyui.ui.pane_life import Subscription

    delivers: List[Callable[[Any], None]] = []
    holder: List[Any] = []

    def subscribe(deliver: Callable[[Any], None]) -> Callable[[], None]:
        delivers.append(deliver)
        return lambda: None

    subscription = Subscription(subscribe, lambda item: holder[0].stop())
    holder.append(subscription)
    subscription.start()
    delivers[0]("x")  # would hang here with a plain (not re-entrant) lock
    assert not subscription.active
