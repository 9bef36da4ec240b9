"""A hand-written fake of Foundry's `nuke` module, faithful where nuke_comfyui depends on Nuke.

Why not a MagicMock: a mock accepts misspelled calls and invented knobs. Here nodes and knobs
hold real values, unknown attributes raise AttributeError, gizmo classes come from the real
gizmos/*.gizmo files on the plugin path, knob text is TCL-evaluated, scripts are saved and
opened as .nk text, nodes live in groups with Nuke's group context, `execute` of a Write really
writes PNG and EXR files through the script's OCIO config, and every node/knob call made off the
main thread raises (Nuke's own rule).
Behaviour the fake cannot know raises "not modelled" instead of guessing.

Modules: `_state` (session, main-thread rule), `_tcl` (knob-text evaluation, .nk quoting),
`_knobs` (knob classes, text evaluation), `_numeric` (numeric knobs and pull-downs, animation,
expressions), `_undo` (the modified flag and undo history: every edit of the script is recorded),
`_classes` (built-in node classes' knobs), `_nodes` (nodes, groups, context, name resolution),
`_create` (creating and deleting nodes, buttons),
`_callbacks` (knobChanged, the artist editing a knob), `_execute` (Read/Write rendering, main-thread
handoff), `_pixels` (float images, colour conversions, PNG/EXR files), `_ocio` (the script's OCIO
config, colourspace menus), `_analysis` (CurveTool), `_script` (.nk save/open, gizmo files),
`_menus` (menus, paths, messages).
Public names mirror the real API (a test checks each one against the types-nuke stubs);
test helpers start with `_fake_`.
"""

from __future__ import annotations

import queue
from typing import Any, List

from . import _callbacks, _state
from ._callbacks import addKnobChanged, removeKnobChanged, thisKnob
from ._classes import Format_Knob
from ._create import (
    addOnCreate,
    allNodes,
    createNode,
    delete,
    frame,
    nodeCopy,
    nodePaste,
    nodes,
    removeOnCreate,
    selectedNode,
    selectedNodes,
    thisNode,
)
from ._execute import execute, executeInMainThread, executeInMainThreadWithResult, render, views
from ._knobs import (
    DISABLED,
    INVISIBLE,
    NO_ANIMATION,
    READ_ONLY,
    STARTLINE,
    EvalString_Knob,
    File_Knob,
    Knob,
    Multiline_Eval_String_Knob,
    OutputContext,
    PyCustom_Knob,
    PyScript_Knob,
    Script_Knob,
    String_Knob,
    Tab_Knob,
    Text_Knob,
)
from ._menus import (
    Menu,
    MenuItem,
    ToolBar,
    addOnScriptLoad,
    alert,
    ask,
    debug,
    error,
    menu,
    message,
    pluginAddPath,
    pluginAppendPath,
    pluginPath,
    toolbar,
    tprint,
    warning,
)
from ._nodes import ALL, INPUTS, Format, Gizmo, Group, Node, Root, root, thisGroup, toNode
from ._numeric import Array_Knob, Boolean_Knob, Double_Knob, Enumeration_Knob, Int_Knob
from ._ocio import STRIP_CASCADE_PREFIX, getColorspaceList
from ._script import scriptClear, scriptName, scriptOpen, scriptSave, scriptSaveAs
from ._undo import Undo, modified, undo

GUI = True
NUKE_VERSION_MAJOR = 15
NUKE_VERSION_MINOR = 1
NUKE_VERSION_STRING = "15.1v3"
EXE_PATH = "/usr/local/Nuke15.1v3/Nuke15.1"
rawArgs: List[str] = []

__all__ = [
    "ALL",
    "DISABLED",
    "EXE_PATH",
    "GUI",
    "INPUTS",
    "INVISIBLE",
    "NO_ANIMATION",
    "NUKE_VERSION_MAJOR",
    "NUKE_VERSION_MINOR",
    "NUKE_VERSION_STRING",
    "READ_ONLY",
    "STARTLINE",
    "STRIP_CASCADE_PREFIX",
    "Array_Knob",
    "Boolean_Knob",
    "Double_Knob",
    "Enumeration_Knob",
    "EvalString_Knob",
    "File_Knob",
    "Format",
    "Format_Knob",
    "Gizmo",
    "Group",
    "Int_Knob",
    "Knob",
    "Menu",
    "MenuItem",
    "Multiline_Eval_String_Knob",
    "Node",
    "OutputContext",
    "PyCustom_Knob",
    "PyScript_Knob",
    "Root",
    "Script_Knob",
    "String_Knob",
    "Tab_Knob",
    "Text_Knob",
    "ToolBar",
    "Undo",
    "addKnobChanged",
    "addOnCreate",
    "addOnScriptLoad",
    "alert",
    "allNodes",
    "ask",
    "createNode",
    "debug",
    "delete",
    "error",
    "execute",
    "executeInMainThread",
    "executeInMainThreadWithResult",
    "frame",
    "getColorspaceList",
    "menu",
    "message",
    "modified",
    "nodeCopy",
    "nodePaste",
    "nodes",
    "pluginAddPath",
    "pluginAppendPath",
    "pluginPath",
    "rawArgs",
    "removeKnobChanged",
    "removeOnCreate",
    "render",
    "root",
    "scriptClear",
    "scriptName",
    "scriptOpen",
    "scriptSave",
    "scriptSaveAs",
    "selectedNode",
    "selectedNodes",
    "thisGroup",
    "thisKnob",
    "thisNode",
    "toNode",
    "toolbar",
    "tprint",
    "undo",
    "views",
    "warning",
]


# ---------------------------------------------------------------------------------- test side
def _fake_reset(gui: bool = True) -> None:
    """A fresh session (used by the test fixture)."""
    global GUI
    GUI = gui
    _state.reset(gui)
    rawArgs[:] = []


def _fake_pump(timeout: float = 0.0) -> int:
    """Run queued main-thread calls (this is Nuke's event loop); waits up to timeout for the first.

    `nuke -t` has no GUI event loop: calls handed to executeInMainThread there never run, so pumping a
    session without a GUI is refused (code on the headless path must not depend on them).
    """
    _state.require_main_thread("_fake_pump")
    if not GUI:
        raise RuntimeError("fake nuke: nuke -t has no event loop; executeInMainThread calls never run there")
    ran = 0
    block = timeout > 0
    while True:
        try:
            call, args, kwargs, reply = _state.state().main_queue.get(
                block=block, timeout=timeout if block else None)
        except queue.Empty:
            return ran
        block = False
        ran += 1
        if reply is None:
            call(*args, **kwargs)
            continue
        box, done = reply
        try:
            box["result"] = call(*args, **kwargs)
        except Exception as exc:
            box["error"] = exc
        finally:
            done.set()


def _fake_queued() -> int:
    """Calls waiting for the main thread's event loop (executeInMainThread); never run without a GUI."""
    return _state.state().main_queue.qsize()


def _fake_state() -> _state.FakeState:
    return _state.state()


def _fake_input_labels(node: Any) -> List[str]:
    """The labels Nuke draws on a group's or gizmo's input arrows, by input number."""
    from ._create import input_labels

    return input_labels(node)


def _fake_script_text() -> str:
    """The .nk text scriptSave would write now."""
    from ._script import script_text

    return script_text()


def _fake_run_as_terminal(script_args: List[str]) -> List[str]:
    """What `nuke -t script.py ARGS` puts in sys.argv and nuke.rawArgs (Foundry: command line guide).

    A last argument that is a number or a frame range is taken by Nuke as the frame range and
    removed from sys.argv; nuke.rawArgs keeps the full command line.
    """
    import re

    rawArgs[:] = [EXE_PATH, "-t", *script_args]
    argv = list(script_args)
    if len(argv) > 1 and re.fullmatch(r"-?\d+([-,:]-?\d+)?(x\d+)?", argv[-1]):
        argv.pop()
    return argv


def _fake_reload_read(node: Any) -> None:
    node._reloads = getattr(node, "_reloads", 0) + 1


Node._fake_reload = _fake_reload_read  # type: ignore[attr-defined]


def _fake_user_edit(knob: Any, value: Any) -> None:
    """The artist changes knob to value in the control panel; knobChanged callbacks run (see _callbacks)."""
    _callbacks.user_edit(knob, value)


def _fake_open_panel(node: Any) -> None:
    """The artist opens node's control panel (knobChanged with the dummy knob showPanel)."""
    _callbacks.open_panel(node)
