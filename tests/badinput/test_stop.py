"""Stopping (issue 15): the pool's stop never waits on a probe that is stuck on the network."""

from __future__ import annotations

import threading
from typing import Any

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.pool import ServerPool


def test_stopping_the_pool_never_waits_for_a_probe_stuck_on_the_network() -> None:
    release = threading.Event()
    entered = threading.Event()

    class StuckClient:
        def queue(self) -> Any:
            entered.set()
            release.wait(30)  # a server that never answers (bounded so the test cannot hang)
            raise AssertionError("released only after the test")

        def close(self) -> None:
            pass

    pool = ServerPool(ClusterConfig(servers=[ServerConfig(name="stuck")]), client_factory=lambda s: StuckClient())
    pool.start()
    poller = pool._thread
    assert poller is not None and entered.wait(10)
    try:
        pool.stop()
        assert not poller.is_alive()  # stop() ended the first refresh's wait instead of joining on it
        assert not release.is_set()  # ...while the probe itself is still stuck
    finally:
        release.set()
