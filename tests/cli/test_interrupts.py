"""Signals while a farm runs are counted, not raised; one `timeout -s INT` is one press (cli/interrupts.py)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from nuke_comfyui.cli.interrupts import SAME_PRESS_S, Interrupts
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.examples import CHECKOUT_DIR, example_path, example_workflow


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_deferred_signals_are_counted_and_a_double_signal_is_one_press() -> None:
    interrupts = Interrupts()
    before = signal.getsignal(signal.SIGINT)
    with interrupts.deferred() as watch:
        os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread: no KeyboardInterrupt here
        os.kill(os.getpid(), signal.SIGINT)  # microseconds later, as `timeout` sends it to the group too
        assert watch.wait_for_more(0, 2.0) and watch.count == 1
        time.sleep(SAME_PRESS_S * 1.5)
        os.kill(os.getpid(), signal.SIGTERM)  # a second press (a farm manager's SIGTERM counts the same)
        assert watch.wait_for_more(1, 2.0) and watch.count == 2
        assert watch.exit_code() == 130 and watch.signal_name() == "Ctrl-C"
        with interrupts.deferred():  # nested: still counting, nothing reset
            assert interrupts.count == 2
    assert signal.getsignal(signal.SIGINT) is before  # Python's own handling is back
    with interrupts.deferred():
        assert interrupts.count == 0  # a new command starts from none


def test_off_the_main_thread_nothing_is_installed() -> None:
    interrupts = Interrupts()
    seen = []

    def run() -> None:
        with interrupts.deferred():
            seen.append(signal.getsignal(signal.SIGINT))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(5)
    assert seen == [signal.getsignal(signal.SIGINT)]


def test_examples_are_found_in_the_package_or_the_checkout() -> None:
    assert example_path("img2img.json") == CHECKOUT_DIR / "img2img.json"  # a checkout has no package copy
    assert example_workflow("txt2img_variations.json").is_file()
    with pytest.raises(WorkflowError, match="reinstall nuke-comfyui"):
        example_workflow("no_such_example.json")


def test_a_dead_default_server_says_nothing_is_configured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With no server configured the loader tries 127.0.0.1:8188; when that is dead the hint says why."""
    import json

    from nuke_comfyui.cli.farm_session import NOTHING_CONFIGURED, nothing_configured
    from nuke_comfyui.core.config_loader import load_config

    assert nothing_configured(load_config(environ={"NUKE_COMFYUI_CONFIG": str(tmp_path / "none.json")}))
    settings = tmp_path / "servers.json"
    settings.write_text(json.dumps({"servers": [{"name": "gpu01", "port": 8188}]}))
    assert not nothing_configured(load_config(settings, environ={}))
    assert "no servers are configured" in NOTHING_CONFIGURED and "demo --sim" in NOTHING_CONFIGURED
