"""Signals while a farm runs are counted, not raised; one `timeout -s INT` is one press (cli/interrupts.py)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from nuke_comfyui.cli.interrupts import SAME_PRESS_S, Interrupts


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


def test_a_signal_landing_while_its_own_thread_reads_the_count_does_not_deadlock() -> None:
    """CI (py3.9): after two SIGINTs the render never cancelled and hung. Python runs a signal
    handler in the main thread between bytecodes, so the second signal could land while that
    thread held the count's lock in `wait_for_more` (woken by the first); the handler then waited
    for a lock its own thread held, for ever. Here the handler is run exactly there."""
    interrupts = Interrupts()
    done = threading.Event()

    def reader_interrupted_mid_check() -> None:
        with interrupts._changed:  # what wait_for_more holds while it looks at the count
            interrupts.record(signal.SIGINT)  # the handler, run by the same thread
        done.set()

    worker = threading.Thread(target=reader_interrupted_mid_check, daemon=True)
    worker.start()
    assert done.wait(5.0), "the signal handler deadlocked on the count's lock"
    assert interrupts.count == 1 and interrupts.wait_for_more(0, 0.1)
