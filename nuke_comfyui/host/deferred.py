"""Change a node's knobs only once the knob callback that asked for it has returned.

Nuke runs a button's command and the knobChanged callbacks while that knob is being handled;
Foundry documents no outcome for destroying the knob whose callback is running (the fake nuke
refuses it). A rebuild that would remove the running callback's own knob (a dynamic combo's
pull-down on the Workflow tab, whose new key rebuilds the knobs under it: host/dynamic_knobs) is therefore handed to
Nuke's event loop: a short-lived worker thread calls `nuke.executeInMainThread`, which Nuke runs
when the main thread is free again, i.e. after the callback returned. (`executeInMainThread` must
not be called from the main thread itself.) Without a GUI (`nuke -t`) no event loop would ever run
it, so there the caller is told, with `NoEventLoop`, to make the change outside the callback.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable, Optional

import nuke

from nuke_comfyui.core.errors import NukeComfyError


class NoEventLoop(NukeComfyError):
    """A change must wait for a knob callback to return, and there is no event loop (nuke -t) to run it later."""


def running_knob(node: Any) -> Optional[str]:
    """The name of node's knob whose callback (button press, knobChanged) is running now, else None."""
    try:
        knob, this = nuke.thisKnob(), nuke.thisNode()
    except RuntimeError:  # outside any callback (Nuke returns None there; the fake raises)
        return None
    if knob is None or this is None:
        return None
    try:
        return str(knob.name()) if this.fullName() == node.fullName() else None
    except ValueError:  # a node deleted meanwhile
        return None


def after_callback(call: Callable[..., Any], *args: Any) -> None:
    """Queue call(*args) on Nuke's main thread, to run once the running callback has returned."""
    if not nuke.GUI:
        raise NoEventLoop("this change removes the knob whose callback is running and there is no event loop "
                          "without a GUI (nuke -t) to run it afterwards; make the change outside the callback, "
                          "e.g. call nuke_comfyui.host.workflow_events.choose_workflow(node) from the script")
    threading.Thread(target=nuke.executeInMainThread, args=(call, args), daemon=True,
                     name="nuke-comfyui-after-callback").start()


def must_wait(node: Any, removed: Iterable[str]) -> bool:
    """True when the knob whose callback is running on node is one of `removed` (so: after_callback)."""
    running = running_knob(node)
    return running is not None and running in set(removed)
