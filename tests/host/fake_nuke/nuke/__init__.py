"""A hand-written fake of Foundry's `nuke` module, faithful for every call nuke_comfyui.host makes.

Why not a MagicMock: a mock accepts misspelled calls and invented knobs. Here nodes and knobs hold
real values, unknown attributes raise AttributeError, gizmo classes come from the real
gizmos/*.gizmo files on the plugin path (so a knob the host reads must exist in the gizmo),
`execute` of a Write really writes image files, and every node/knob call made off the main
thread raises (Nuke's own rule). `executeInMainThread` queues work for a simulated main thread
that the test pumps with `_fake_pump()`; calling it *from* the main thread raises, because the
plugin must never do that.

Public names mirror the real API (a test checks each one exists in the types-nuke stubs);
test helpers start with `_fake_`.
"""

from __future__ import annotations

import json
import os
import queue
import re
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

# ---------------------------------------------------------------------------------- constants
GUI = True
NUKE_VERSION_MAJOR = 15
NUKE_VERSION_MINOR = 1
NUKE_VERSION_STRING = "15.1v3"
EXE_PATH = "/usr/local/Nuke15.1v3/Nuke15.1"
INVISIBLE = 0x400
STARTLINE = 0x1000
DISABLED = 0x80
READ_ONLY = 0x10000000
INPUTS = 2
ALL = 4


class _FakeState:
    """Everything a Nuke session holds: the node graph, paths, menus, callbacks, the main-thread queue."""

    def __init__(self) -> None:
        self.nodes: List[Node] = []
        self.root: Optional[Root] = None
        self.plugin_paths: List[str] = []
        self.menus: Dict[str, Menu] = {}
        self.toolbars: Dict[str, ToolBar] = {}
        self.main_queue: queue.Queue = queue.Queue()
        self.printed: List[str] = []
        self.messages: List[str] = []
        self.script_name = ""
        self.this_node: List[Node] = []
        self.on_script_load: List[Tuple[Callable, tuple, dict]] = []
        self.executed: List[Tuple[str, int, int]] = []


_state = _FakeState()


def _require_main_thread(what: str) -> None:
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(f"fake nuke: {what} called from worker thread {threading.current_thread().name}")


def _main_thread_only(cls: type) -> type:
    """Wrap every public method so a call from a worker thread fails, like touching Nuke off-thread."""
    for attr, fn in list(vars(cls).items()):
        if callable(fn) and not attr.startswith("_"):

            def wrapper(*args: Any, __fn: Callable = fn, __name: str = attr, **kwargs: Any) -> Any:
                _require_main_thread(f"{cls.__name__}.{__name}")
                return __fn(*args, **kwargs)

            wrapper.__name__ = attr
            setattr(cls, attr, wrapper)
    return cls


# -------------------------------------------------------------------------------------- knobs
@_main_thread_only
class Knob:
    def __init__(self, name: str, label: Optional[str] = None, value: Any = "") -> None:
        self._name = name
        self._label = name if label is None else label
        self._value = value
        self._default = value
        self._flags = 0
        self._tooltip = ""
        self._node: Optional[Node] = None

    def name(self) -> str:
        return self._name

    def label(self) -> str:
        return self._label

    def setLabel(self, label: str) -> None:
        self._label = label

    def value(self) -> Any:
        return self._value

    def getValue(self) -> Any:
        return self._value

    def setValue(self, val: Any) -> bool:
        self._value = val
        return True

    def node(self) -> Node:
        assert self._node is not None
        return self._node

    def setFlag(self, flag: int) -> None:
        self._flags |= flag

    def clearFlag(self, flag: int) -> None:
        self._flags &= ~flag

    def getFlag(self, flag: int) -> bool:
        return bool(self._flags & flag)

    def visible(self) -> bool:
        return not self._flags & INVISIBLE

    def setVisible(self, visible: bool) -> None:
        (self.clearFlag if visible else self.setFlag)(INVISIBLE)

    def tooltip(self) -> str:
        return self._tooltip

    def setTooltip(self, tooltip: str) -> None:
        self._tooltip = tooltip

    def Class(self) -> str:
        return type(self).__name__

    def toScript(self) -> str:
        return str(self._value)

    def fromScript(self, script: str) -> None:
        self._value = script


@_main_thread_only
class String_Knob(Knob):
    def value(self) -> str:
        return str(self._value)

    def getText(self) -> str:
        return str(self._value)

    def setValue(self, val: Any) -> None:  # type: ignore[override]
        self._value = str(val)


@_main_thread_only
class EvalString_Knob(String_Knob):
    def evaluate(self) -> str:
        return str(self._value)


@_main_thread_only
class File_Knob(EvalString_Knob):
    def getEvaluatedValue(self) -> str:
        return str(self._value)


@_main_thread_only
class Multiline_Eval_String_Knob(EvalString_Knob):
    pass


@_main_thread_only
class Text_Knob(Knob):
    pass


@_main_thread_only
class Tab_Knob(Knob):
    pass


@_main_thread_only
class Array_Knob(Knob):
    pass


@_main_thread_only
class Int_Knob(Array_Knob):
    def value(self) -> int:
        return int(self._value or 0)

    def setValue(self, val: Any) -> bool:
        self._value = int(val)
        return True

    def fromScript(self, script: str) -> None:
        self._value = int(float(script))


@_main_thread_only
class Double_Knob(Array_Knob):
    def value(self) -> float:
        return float(self._value or 0.0)

    def setValue(self, val: Any) -> bool:
        self._value = float(val)
        return True

    def fromScript(self, script: str) -> None:
        self._value = float(script)


@_main_thread_only
class Boolean_Knob(Array_Knob):
    def value(self) -> bool:
        return bool(self._value)

    def setValue(self, b: Any) -> bool:
        self._value = bool(b)
        return True

    def fromScript(self, script: str) -> None:
        self._value = script.strip().lower() in ("1", "true")


@_main_thread_only
class Enumeration_Knob(Array_Knob):
    """value() is the item name, getValue() its index, like Nuke."""

    def __init__(self, name: str, label: Optional[str] = None, values: Optional[List[str]] = None) -> None:
        super().__init__(name, label, 0)
        self._values = list(values or [])

    def values(self) -> List[str]:
        return list(self._values)

    def numValues(self) -> int:
        return len(self._values)

    def enumName(self, n: int) -> str:
        return self._values[n]

    def value(self) -> str:
        return self._values[int(self._value)] if self._values else ""

    def getValue(self) -> float:
        return float(self._value)

    def setValue(self, val: Any) -> bool:
        if isinstance(val, str):
            if val not in self._values:
                raise ValueError(f"Bad value for {self._name}: {val!r} (one of {self._values})")
            self._value = self._values.index(val)
        else:
            if not 0 <= int(val) < len(self._values):
                raise ValueError(f"Bad index for {self._name}: {val}")
            self._value = int(val)
        return True

    def fromScript(self, script: str) -> None:
        self.setValue(script)

    def toScript(self) -> str:
        return self.value()


@_main_thread_only
class Script_Knob(String_Knob):
    def command(self) -> str:
        return str(self._value)

    def setCommand(self, cmd: str) -> None:
        self._value = cmd

    def execute(self) -> None:
        """Run the knob's Python with thisNode() set to its node (a PyScript button press)."""
        assert self._node is not None
        _state.this_node.append(self._node)
        try:
            code = compile(str(self._value), f"<{self._node.name()}.{self._name}>", "exec")
            exec(code, {"nuke": sys.modules[__name__]})
        finally:
            _state.this_node.pop()


@_main_thread_only
class PyScript_Knob(Script_Knob):
    pass


# addUserKnob type ids (NDK "Knobs By ID") -> fake knob class.
_KNOB_TYPES: Dict[int, type] = {
    1: String_Knob,
    2: File_Knob,
    3: Int_Knob,
    4: Enumeration_Knob,
    6: Boolean_Knob,
    7: Double_Knob,
    20: Tab_Knob,
    22: PyScript_Knob,
    26: Text_Knob,
}


# -------------------------------------------------------------------------------------- nodes
@_main_thread_only
class Node:
    def __init__(self, klass: str, knobs: List[Knob], max_inputs: int = 1) -> None:
        self._class = klass
        self._knobs: Dict[str, Knob] = {}
        self._inputs: List[Optional[Node]] = [None] * max_inputs
        self._deleted = False
        for knob in [String_Knob("name"), String_Knob("label"), Int_Knob("xpos", value=0),
                     Int_Knob("ypos", value=0), Boolean_Knob("selected", value=False), *knobs]:
            self._add(knob)

    def _add(self, knob: Knob) -> None:
        knob._node = self
        self._knobs[knob._name] = knob

    def _alive(self) -> None:
        if self._deleted:
            raise ValueError("A PythonObject is not attached to a node")

    def Class(self) -> str:
        return self._class

    def name(self) -> str:
        self._alive()
        return str(self._knobs["name"]._value)

    def fullName(self) -> str:
        return self.name()

    def setName(self, name: str) -> None:
        if toNode(name) not in (None, self):
            raise ValueError(f"{name} already exists")
        self._knobs["name"]._value = name

    def knobs(self) -> Dict[str, Knob]:
        self._alive()
        return dict(self._knobs)

    def allKnobs(self) -> List[Knob]:
        return list(self._knobs.values())

    def knob(self, p: Any) -> Optional[Knob]:
        self._alive()
        if isinstance(p, int):
            return list(self._knobs.values())[p]
        return self._knobs.get(p)

    def addKnob(self, knob: Knob) -> None:
        self._add(knob)

    def removeKnob(self, knob: Knob) -> None:
        del self._knobs[knob._name]

    def __getitem__(self, name: str) -> Knob:
        self._alive()
        try:
            return self._knobs[name]
        except KeyError:
            raise NameError(f"knob {name} does not exist") from None

    def xpos(self) -> int:
        return int(self._knobs["xpos"]._value)

    def ypos(self) -> int:
        return int(self._knobs["ypos"]._value)

    def setXYpos(self, x: int, y: int) -> None:
        self._knobs["xpos"]._value, self._knobs["ypos"]._value = int(x), int(y)

    def setXpos(self, x: int) -> None:
        self._knobs["xpos"]._value = int(x)

    def setYpos(self, y: int) -> None:
        self._knobs["ypos"]._value = int(y)

    def screenWidth(self) -> int:
        return 80

    def screenHeight(self) -> int:
        return 18

    def input(self, index: int) -> Optional[Node]:
        if index >= len(self._inputs):
            return None
        node = self._inputs[index]
        return node if node is not None and not node._deleted else None

    def inputs(self) -> int:
        return len(self._inputs)

    def maxInputs(self) -> int:
        return len(self._inputs)

    def setInput(self, i: int, node: Optional[Node]) -> bool:
        if i >= len(self._inputs):
            return False
        self._inputs[i] = node
        return True

    def connectInput(self, i: int, node: Optional[Node]) -> bool:
        return self.setInput(i, node)

    def dependent(self, mask: int = INPUTS, forceEvaluate: bool = True) -> List[Node]:
        return [n for n in _state.nodes if self in n._inputs]

    def isSelected(self) -> bool:
        return bool(self._knobs["selected"]._value)

    def setSelected(self, selected: bool) -> None:
        self._knobs["selected"]._value = bool(selected)

    def selectOnly(self) -> None:
        for node in _state.nodes:
            node._knobs["selected"]._value = node is self

    def firstFrame(self) -> int:
        return self._frame_range()[0]

    def lastFrame(self) -> int:
        return self._frame_range()[1]

    def _frame_range(self) -> Tuple[int, int]:
        if "first" in self._knobs and "last" in self._knobs and self._class == "Read":
            return int(self._knobs["first"]._value), int(self._knobs["last"]._value)
        upstream = self.input(0)
        if upstream is not None:
            return upstream._frame_range()
        r = root()
        return int(r._knobs["first_frame"]._value), int(r._knobs["last_frame"]._value)

    def error(self) -> bool:
        return False

    def hasError(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<fake {self._class} node {self._knobs['name']._value}>"


@_main_thread_only
class Group(Node):
    def begin(self) -> Group:
        return self

    def end(self) -> None:
        return None

    def nodes(self) -> List[Node]:
        return list(getattr(self, "_children", []))

    def node(self, s: str) -> Optional[Node]:
        return next((n for n in getattr(self, "_children", []) if n.name() == s), None)


@_main_thread_only
class Gizmo(Group):
    def filename(self) -> str:
        return str(getattr(self, "_filename", ""))


@_main_thread_only
class Format:
    def __init__(self, width: int, height: int, name: str = "") -> None:
        self._w, self._h, self._name = width, height, name

    def width(self) -> int:
        return self._w

    def height(self) -> int:
        return self._h

    def name(self) -> str:
        return self._name


@_main_thread_only
class Root(Group):
    def __init__(self) -> None:
        super().__init__("Root", [Int_Knob("first_frame", value=1), Int_Knob("last_frame", value=100),
                                  String_Knob("format", value="fake 32 18"), Int_Knob("fps", value=24)], 0)
        self._knobs["name"]._value = "root"

    def firstFrame(self) -> int:
        return int(self._knobs["first_frame"]._value)

    def lastFrame(self) -> int:
        return int(self._knobs["last_frame"]._value)

    def format(self) -> Format:
        _, w, h = str(self._knobs["format"]._value).split()
        return Format(int(w), int(h), "fake")

    def fps(self) -> int:
        return int(self._knobs["fps"]._value)


def _builtin_knobs(klass: str) -> Tuple[List[Knob], int]:
    """Knobs (with Nuke's names and defaults) of the built-in node classes the plugin touches."""
    if klass == "Read":
        return [File_Knob("file"), Int_Knob("first", value=1), Int_Knob("last", value=1),
                Int_Knob("origfirst", value=1), Int_Knob("origlast", value=1),
                Enumeration_Knob("on_error", values=["error", "black", "checkerboard", "nearest frame"]),
                Enumeration_Knob("before", values=["hold", "loop", "bounce", "black"]),
                Enumeration_Knob("after", values=["hold", "loop", "bounce", "black"]),
                Boolean_Knob("raw"), Boolean_Knob("premultiplied"), Boolean_Knob("reformat"),
                Boolean_Knob("disable"), PyScript_Knob("reload", value="nuke.thisNode()._fake_reload()")], 0
    if klass == "Write":
        return [File_Knob("file"), Enumeration_Knob("file_type", values=["", "exr", "jpeg", "png", "tiff"]),
                Enumeration_Knob("channels", values=["rgb", "rgba", "all"]),
                Boolean_Knob("create_directories"), Boolean_Knob("disable")], 1
    if klass in ("Constant", "CheckerBoard2", "ColorBars"):
        return [Boolean_Knob("disable")], 0
    if klass in ("Grade", "Blur", "Dot", "NoOp", "Reformat", "Transform"):
        return [Boolean_Knob("disable")], 1
    raise RuntimeError(f"{klass} is not a known node class (fake nuke; add it if the plugin needs it)")


# ------------------------------------------------------------------------------ gizmo parsing
def _tcl_tokens(text: str) -> Iterator[str]:
    """Split Nuke/TCL script text into words: quoted strings, {brace groups} kept whole, bare words."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j, out = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
                    j += 2
                else:
                    out.append(text[j])
                    j += 1
            yield "".join(out)
            i = j + 1
        elif c == "{":
            depth, j = 1, i + 1
            while j < n and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            yield text[i:j]
            i = j
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            yield text[i:j]
            i = j


def _user_knob(spec: str) -> Knob:
    """One `addUserKnob {N name l label t tip M {..} T value +FLAG}` into a fake knob."""
    words = list(_tcl_tokens(spec[1:-1]))
    type_id, name = int(words[0]), words[1]
    if type_id not in _KNOB_TYPES:
        raise RuntimeError(f"fake nuke: addUserKnob type {type_id} not supported")
    options: Dict[str, str] = {}
    flags: List[str] = []
    i = 2
    while i < len(words):
        word = words[i]
        if word[:1] in "+-" and len(word) > 1:
            flags.append(word)
            i += 1
        else:
            options[word] = words[i + 1]
            i += 2
    klass = _KNOB_TYPES[type_id]
    label = options.get("l", name)
    if klass is Enumeration_Knob:
        knob: Knob = Enumeration_Knob(name, label, list(_tcl_tokens(options.get("M", "{}")[1:-1])))
    else:
        default = {Int_Knob: 0, Double_Knob: 0.0, Boolean_Knob: False}.get(klass, "")
        knob = klass(name, label, options.get("T", default))
    knob._tooltip = options.get("t", "")
    if "+INVISIBLE" in flags:
        knob._flags |= INVISIBLE
    return knob


def _parse_gizmo(path: Path) -> Tuple[List[Knob], int, List[str]]:
    """Knobs, input count and inner node classes of a .gizmo file (its first Gizmo/Group block)."""
    text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
    match = re.search(r"^(Gizmo|Group) ", text, re.M)
    if match is None:
        raise RuntimeError(f"{path}: no Gizmo or Group block")
    tokens = list(_tcl_tokens(text[match.end():]))
    body = list(_tcl_tokens(tokens[0][1:-1]))
    knobs: List[Knob] = []
    by_name: Dict[str, Knob] = {}
    inputs = 1
    i = 0
    while i < len(body):
        word = body[i]
        if word == "addUserKnob":
            knob = _user_knob(body[i + 1])
            knobs.append(knob)
            by_name[knob._name] = knob
        elif word == "inputs":
            inputs = int(body[i + 1])
        elif word in by_name:
            by_name[word].fromScript(body[i + 1])
        i += 2
    inner = [tok for tok in tokens[1:] if re.fullmatch(r"[A-Z]\w*", tok)]
    return knobs, inputs, inner


def _find_gizmo(klass: str) -> Optional[Path]:
    for folder in _state.plugin_paths:
        candidate = Path(folder) / f"{klass}.gizmo"
        if candidate.is_file():
            return candidate
    return None


# ----------------------------------------------------------------------------- node functions
def _unique_name(base: str) -> str:
    taken = {n.name() for n in _state.nodes}
    i = 1
    while f"{base}{i}" in taken:
        i += 1
    return f"{base}{i}"


def _make_node(klass: str) -> Node:
    gizmo = _find_gizmo(klass)
    if gizmo is not None:
        knobs, inputs, inner = _parse_gizmo(gizmo)
        node: Node = Gizmo(klass, knobs, inputs)
        node._filename = str(gizmo)  # type: ignore[attr-defined]
        node._inner_classes = inner  # type: ignore[attr-defined]
    elif klass == "Group":
        node = Group("Group", [], 1)
    else:
        knobs, inputs = _builtin_knobs(klass)
        node = Node(klass, knobs, inputs)
    node._knobs["name"]._value = _unique_name(klass)
    _state.nodes.append(node)
    return node


def _apply_knob_args(node: Node, values: Dict[str, Any]) -> None:
    for key, value in values.items():
        if key == "inputs":
            continue
        node[key].setValue(value)


def createNode(typ: str, knobs: str = "", inpanel: bool = True) -> Node:
    """Like Nuke: connects to the selected node, places below it and becomes the only selection."""
    _require_main_thread("createNode")
    selected = selectedNodes()
    node = _make_node(typ)
    words = list(_tcl_tokens(knobs))
    for key, value in zip(words[::2], words[1::2]):
        node[key].fromScript(value)
    if selected and node.maxInputs():
        node.setInput(0, selected[0])
        node.setXYpos(selected[0].xpos(), selected[0].ypos() + 60)
    node.selectOnly()
    return node


class _NodeConstructors:
    """nuke.nodes.Read(file=...): creates a node with knob values, not connected, not selected."""

    def __getattr__(self, klass: str) -> Callable[..., Node]:
        if klass.startswith("_"):
            raise AttributeError(klass)

        def construct(**knob_values: Any) -> Node:
            _require_main_thread(f"nodes.{klass}")
            node = _make_node(klass)
            _apply_knob_args(node, knob_values)
            return node

        return construct


nodes = _NodeConstructors()


def toNode(s: str) -> Optional[Node]:
    _require_main_thread("toNode")
    if s == "root":
        return root()
    return next((n for n in _state.nodes if n.name() == s), None)


def allNodes(filter: Optional[str] = None, group: Optional[Group] = None) -> List[Node]:
    _require_main_thread("allNodes")
    return [n for n in _state.nodes if filter is None or n.Class() == filter]


def selectedNodes(filter: Optional[str] = None) -> List[Node]:
    _require_main_thread("selectedNodes")
    return [n for n in allNodes(filter) if n.isSelected()]


def selectedNode() -> Node:
    chosen = selectedNodes()
    if not chosen:
        raise ValueError("no node selected")
    return chosen[-1]


def delete(n: Optional[Node]) -> None:
    _require_main_thread("delete")
    if n is None or n._deleted:
        return
    _state.nodes.remove(n)
    n._deleted = True


def root() -> Root:
    _require_main_thread("root")
    if _state.root is None:
        _state.root = Root()
    return _state.root


def thisNode() -> Node:
    if not _state.this_node:
        raise RuntimeError("thisNode() outside a knob callback")
    return _state.this_node[-1]


# ------------------------------------------------------------------------------------ execute
def _frame_path(pattern: str, frame: int) -> str:
    pattern = re.sub(r"#+", lambda m: f"%0{len(m.group(0))}d", pattern)
    return re.sub(r"%0?(\d*)d", lambda m: str(frame).zfill(int(m.group(1) or 0)), pattern)


def _render_image(node: Optional[Node], frame: int) -> Any:
    """The image a node produces at a frame: a Read's file, else a colour derived from node and frame."""
    from PIL import Image

    if node is None:
        raise RuntimeError("Write has no input connected")
    if node.Class() == "Read":
        path = _frame_path(str(node["file"].value()), frame)
        if not os.path.isfile(path):
            raise RuntimeError(f"Read error: {path}: No such file or directory")
        return Image.open(path).convert("RGB")
    if node.Class() in ("Dot", "NoOp") or (node.Class() != "Constant" and node.input(0) is not None):
        return _render_image(node.input(0), frame)
    fmt = root().format()
    seed = sum(map(ord, node.name()))
    return Image.new("RGB", (fmt.width(), fmt.height()), ((frame * 7) % 256, seed % 256, 128))


def execute(nameOrNode: Any, start: int, end: int, incr: int = 1) -> None:
    """Render a Write node's frames to files, following its `file` pattern."""
    _require_main_thread("execute")
    node = toNode(nameOrNode) if isinstance(nameOrNode, str) else nameOrNode
    if node is None or node.Class() != "Write":
        raise ValueError(f"{nameOrNode}: execute needs a Write node")
    pattern = str(node["file"].value())
    if not pattern:
        raise RuntimeError(f"{node.name()}: no filename set")
    _state.executed.append((node.name(), int(start), int(end)))
    for frame in range(int(start), int(end) + 1, int(incr)):
        path = Path(_frame_path(pattern, frame))
        if not path.parent.is_dir():
            if not node["create_directories"].value():
                raise RuntimeError(f"{node.name()}: Can't write {path}: No such file or directory")
            path.parent.mkdir(parents=True, exist_ok=True)
        _render_image(node.input(0), frame).save(path, format="PNG")


render = execute


# ------------------------------------------------------------------------ main-thread handoff
def executeInMainThread(call: Callable, args: Any = (), kwargs: Optional[Dict[str, Any]] = None) -> None:
    if threading.current_thread() is threading.main_thread():
        raise RuntimeError("fake nuke: executeInMainThread called from the main thread (the plugin must not)")
    if not isinstance(args, tuple):
        args = (args,)
    _state.main_queue.put((call, args, dict(kwargs or {}), None))


def executeInMainThreadWithResult(
    call: Callable, args: Any = (), kwargs: Optional[Dict[str, Any]] = None
) -> Any:
    if threading.current_thread() is threading.main_thread():
        raise RuntimeError("fake nuke: executeInMainThreadWithResult called from the main thread")
    if not isinstance(args, tuple):
        args = (args,)
    box: Dict[str, Any] = {}
    done = threading.Event()
    _state.main_queue.put((call, args, dict(kwargs or {}), (box, done)))
    done.wait()
    if "error" in box:
        raise box["error"]
    return box.get("result")


# --------------------------------------------------------------------------- menus and paths
class MenuItem:
    def __init__(self, name: str, script: Any = "", icon: str = "", shortcut: str = "") -> None:
        self._name, self._script, self._icon, self._shortcut = name, script, icon, shortcut

    def name(self) -> str:
        return self._name

    def icon(self) -> str:
        return self._icon

    def script(self) -> str:
        return self._script if isinstance(self._script, str) else repr(self._script)

    def shortcut(self) -> str:
        return self._shortcut

    def invoke(self) -> None:
        _require_main_thread("MenuItem.invoke")
        if callable(self._script):
            self._script()
        else:
            exec(compile(str(self._script), f"<menu {self._name}>", "exec"), {"nuke": sys.modules[__name__]})


class Menu(MenuItem):
    def __init__(self, name: str, icon: str = "") -> None:
        super().__init__(name, "", icon)
        self._items: List[MenuItem] = []

    def addCommand(self, name: str, command: Any = "", shortcut: str = "", icon: str = "",
                   tooltip: str = "", index: int = -1, readonly: bool = False) -> MenuItem:
        _require_main_thread("Menu.addCommand")
        head, _, rest = name.partition("/")
        if rest:
            return self.addMenu(head).addCommand(rest, command, shortcut, icon)
        item = MenuItem(name, command, icon, shortcut)
        self._items.append(item)
        return item

    def addMenu(self, name: str, icon: str = "", tooltip: str = "", index: int = -1) -> Menu:
        existing = self.findItem(name)
        if isinstance(existing, Menu):
            return existing
        sub = Menu(name, icon)
        self._items.append(sub)
        return sub

    def addSeparator(self) -> None:
        self._items.append(MenuItem("", ""))

    def findItem(self, name: str) -> Optional[MenuItem]:  # type: ignore[override]
        head, _, rest = name.partition("/")
        item = next((i for i in self._items if i.name() == head), None)
        if rest and isinstance(item, Menu):
            return item.findItem(rest)
        return item

    def menu(self, name: str) -> Optional[Menu]:
        item = self.findItem(name)
        return item if isinstance(item, Menu) else None

    def items(self) -> List[MenuItem]:  # type: ignore[override]
        return list(self._items)


class ToolBar(Menu):
    pass


def menu(name: str) -> Menu:
    _require_main_thread("menu")
    if not GUI:
        raise RuntimeError("fake nuke: menu() has no menus without a GUI")
    return _state.menus.setdefault(name, Menu(name))


def toolbar(name: str, create: bool = True) -> Optional[ToolBar]:
    _require_main_thread("toolbar")
    if not GUI:
        raise RuntimeError("fake nuke: toolbar() has no toolbars without a GUI")
    if name not in _state.toolbars and not create:
        return None
    return _state.toolbars.setdefault(name, ToolBar(name))


def pluginAddPath(args: str, addToSysPath: bool = True) -> None:
    _state.plugin_paths.insert(0, str(args))
    if addToSysPath and str(args) not in sys.path:
        sys.path.insert(0, str(args))


def pluginAppendPath(args: str, addToSysPath: bool = True) -> None:
    _state.plugin_paths.append(str(args))
    if addToSysPath and str(args) not in sys.path:
        sys.path.append(str(args))


def pluginPath() -> List[str]:
    return list(_state.plugin_paths)


# ------------------------------------------------------------------------------ messages, log
def tprint(*args: Any, sep: str = " ", end: str = "\n", file: Any = None) -> None:
    text = sep.join(str(a) for a in args)
    _state.printed.append(text)
    print(text, end=end, file=file or sys.stdout)


def message(prompt: str) -> None:
    _require_main_thread("message")
    _state.messages.append(prompt)


def alert(prompt: str) -> None:
    message(prompt)


def warning(message: str) -> None:
    _state.printed.append(f"WARNING: {message}")


def error(message: str) -> None:
    _state.printed.append(f"ERROR: {message}")


def debug(message: str) -> None:
    _state.printed.append(f"DEBUG: {message}")


def addOnScriptLoad(call: Callable, args: tuple = (), kwargs: Optional[Dict[str, Any]] = None,
                    nodeClass: str = "Root") -> None:
    _state.on_script_load.append((call, tuple(args), dict(kwargs or {})))


# ------------------------------------------------------------------------------------ scripts
def scriptName() -> str:
    if not _state.script_name:
        raise RuntimeError("No name set for this script")
    return _state.script_name


def scriptClear(*args: Any, **kwargs: Any) -> None:
    _require_main_thread("scriptClear")
    for node in list(_state.nodes):
        delete(node)
    _state.root = None
    _state.script_name = ""


def scriptSave(filename: Optional[str] = None) -> bool:
    """Save nodes, knob values and connections (a JSON stand-in for the .nk text format)."""
    _require_main_thread("scriptSave")
    path = filename or _state.script_name
    if not path:
        raise RuntimeError("No name set for this script")
    data = {
        "root": {k: v._value for k, v in root()._knobs.items()},
        "nodes": [
            {
                "class": n.Class(),
                "knobs": {k: v._value for k, v in n._knobs.items()},
                "inputs": [i.name() if i is not None else None for i in n._inputs],
            }
            for n in _state.nodes
        ],
    }
    Path(path).write_text(json.dumps(data, indent=1))
    _state.script_name = path
    return True


def scriptSaveAs(filename: Optional[str] = None, overwrite: int = 1) -> None:
    scriptSave(filename)


def scriptOpen(filename: Optional[str] = None) -> None:
    """Clear and load a script written by scriptSave, then run the onScriptLoad callbacks."""
    _require_main_thread("scriptOpen")
    if filename is None:
        raise RuntimeError("scriptOpen needs a file name in the fake")
    data = json.loads(Path(filename).read_text())
    scriptClear()
    for key, value in data["root"].items():
        root()._knobs[key]._value = value
    created: List[Tuple[Node, List[Optional[str]]]] = []
    for entry in data["nodes"]:
        node = _make_node(entry["class"])
        for key, value in entry["knobs"].items():
            if key in node._knobs:
                node._knobs[key]._value = value
        created.append((node, entry["inputs"]))
    for node, inputs in created:
        for i, name in enumerate(inputs):
            node._inputs[i] = toNode(name) if name else None
    _state.script_name = str(filename)
    for call, args, kwargs in list(_state.on_script_load):
        call(*args, **kwargs)


# ---------------------------------------------------------------------------------- test side
def _fake_reset(gui: bool = True) -> None:
    """A fresh session (used by the test fixture)."""
    global GUI, _state
    GUI = gui
    _state = _FakeState()


def _fake_pump(timeout: float = 0.0) -> int:
    """Run queued main-thread calls (this is Nuke's event loop); waits up to timeout for the first."""
    _require_main_thread("_fake_pump")
    ran = 0
    block = timeout > 0
    while True:
        try:
            call, args, kwargs, reply = _state.main_queue.get(block=block, timeout=timeout if block else None)
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


def _fake_state() -> _FakeState:
    return _state


def _fake_reload_read(node: Node) -> None:
    node._reloads = getattr(node, "_reloads", 0) + 1  # type: ignore[attr-defined]


Node._fake_reload = _fake_reload_read  # type: ignore[attr-defined]
