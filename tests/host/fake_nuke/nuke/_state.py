"""The fake Nuke session's state and the main-thread rule every node and knob call obeys.

Foundry's threading guide: nodes, knobs and the DAG may only be touched on the main thread;
worker threads hand work over with `nuke.executeInMainThread`. Every public method of the fake
classes is wrapped so a call from another thread raises, instead of silently working.
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from ._menus import Menu, ToolBar
    from ._nodes import Group, Node, Root


class FakeState:
    """Everything a Nuke session holds: the graph, the group context, paths, menus, the main-thread queue."""

    def __init__(self, gui: bool = True) -> None:
        self.gui = gui
        self.root: Optional[Root] = None
        self.context: List[Group] = []          # begin()/with-group stack; empty means root
        self.frame = 1.0
        self.plugin_paths: List[str] = []
        self.menus: Dict[str, Menu] = {}
        self.toolbars: Dict[str, ToolBar] = {}
        self.main_queue: queue.Queue = queue.Queue()
        self.printed: List[str] = []
        self.messages: List[str] = []
        self.asked: List[str] = []  # nuke.ask prompts shown
        self.answers: List[bool] = []  # queued Yes/No replies for nuke.ask (a test plays the user)
        self.this_node: List[Node] = []
        self.this_knob: List[Any] = []  # thisKnob() of the running knob callback or button
        self.knob_changed: Dict[str, List[Tuple[Callable, tuple, dict, Any]]] = {}  # addKnobChanged, by class
        self.in_knob_changed = 0  # >0 while knobChanged callbacks run
        self.on_script_load: List[Tuple[Callable, tuple, dict]] = []
        self.executed: List[Tuple[str, int, int]] = []
        self.raw_args: List[str] = []
        self.modified = False  # Root.modified(): an edit since the script was opened or saved (see _undo)
        self.undo_items: List[str] = []  # one per recorded edit (nuke.Undo; see _undo)
        self.undo_disabled = 0  # >0 between Undo.disable() and Undo.enable()
        self.loading = 0  # >0 while scriptOpen reads a file: loading is not an edit
        self.edit_depth = 0  # nested public calls count as the outermost one's edit
        self.clipboard = ""  # nodeCopy("%clipboard%")
        self.on_create: List[Tuple[Callable, tuple, dict, str]] = []  # addOnCreate (call, args, kwargs, class)


class _Holder:
    state = FakeState()


def state() -> FakeState:
    return _Holder.state


def reset(gui: bool) -> None:
    _Holder.state = FakeState(gui)


def require_main_thread(what: str) -> None:
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(f"fake nuke: {what} called from worker thread {threading.current_thread().name}")


def main_thread_only(cls: type) -> type:
    """Wrap every public method so a call from a worker thread fails, like touching Nuke off-thread.

    Methods that change a node of the script (see _undo.EDITS) are recorded as one undoable edit
    each, and mark the script modified, as in Nuke (the outermost call only).
    """
    for attr, fn in list(vars(cls).items()):
        if callable(fn) and not attr.startswith("_") and not isinstance(fn, type):

            def wrapper(*args: Any, __fn: Callable = fn, __name: str = attr, **kwargs: Any) -> Any:
                require_main_thread(f"{cls.__name__}.{__name}")
                from . import _undo

                if __name not in _undo.EDITS or not args:
                    return __fn(*args, **kwargs)
                current = state()
                current.edit_depth += 1
                try:
                    result = __fn(*args, **kwargs)
                finally:
                    current.edit_depth -= 1
                if current.edit_depth == 0:
                    _undo.record(args[0], __name)
                return result

            wrapper.__name__ = attr
            setattr(cls, attr, wrapper)
    return cls


def not_modelled(what: str) -> RuntimeError:
    """The error for behaviour the fake cannot know: a test relying on it must fail, not pass by luck."""
    return RuntimeError(f"fake nuke: {what} is not modelled; the fake refuses rather than guess")
