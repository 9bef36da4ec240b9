"""Host tests run against the hand-written fake `nuke`/`nukescripts` in tests/host/fake_nuke.

The fake is put first on sys.path before any nuke_comfyui.host module is imported; every test
gets a fresh Nuke session (empty graph, GUI on, the repo's gizmos/ and icons/ on the plugin path).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

FAKE = Path(__file__).parent / "fake_nuke"
REPO = Path(__file__).resolve().parents[2]
if str(FAKE) not in sys.path:
    sys.path.insert(0, str(FAKE))

import nuke  # noqa: E402
import nukescripts  # noqa: E402


@pytest.fixture(autouse=True)
def fake_session() -> Iterator[Any]:
    """A fresh fake Nuke session with the plugin's gizmo and icon folders on the plugin path."""
    nuke._fake_reset(gui=True)
    nukescripts.panels._fake_reset()
    nuke.pluginAddPath(str(REPO / "gizmos"), addToSysPath=False)
    nuke.pluginAddPath(str(REPO / "icons"), addToSysPath=False)
    yield nuke
    from nuke_comfyui.host.session import shutdown_session

    shutdown_session()


@pytest.fixture()
def pump() -> Callable[[Callable[[], bool], float], None]:
    """Run the simulated main thread until predicate() is true (fails after timeout seconds)."""
    import time

    def run(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out pumping the fake main thread")
            nuke._fake_pump(timeout=0.05)

    return run
