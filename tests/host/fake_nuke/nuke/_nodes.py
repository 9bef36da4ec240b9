"""Nodes, groups and the group context, the way Nuke's Python API resolves them.

Sources: Foundry's Python API reference (Node.parent, Node.fullName, Group.begin "all python
code that follows will be executed in the context of node", Group.__enter__, nuke.toNode,
nuke.allNodes "in the current group", nuke.thisGroup) and the Developer's Guide "Manipulating
the Node Graph". A gizmo's internals come from its .gizmo file and are not saved with the
script; a Group's are. A button (PyScript_Knob) on a group or gizmo runs with that node as the
current group, so bare `nuke.nodes.X()` inside a gizmo button creates inside the gizmo.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

from . import _classes
from ._knobs import Knob, String_Knob
from ._numeric import Boolean_Knob, Int_Knob, make_knob
from ._state import main_thread_only, not_modelled, require_main_thread, state

INPUTS = 2
ALL = 4


@main_thread_only
class Format:
    def __init__(self, width: int, height: int, name: str = "") -> None:
        self._w, self._h, self._name = int(width), int(height), name

    def width(self) -> int:
        return self._w

    def height(self) -> int:
        return self._h

    def name(self) -> str:
        return self._name


@main_thread_only
class Node:
    def __init__(self, klass: str, knobs: List[Knob], max_inputs: int = 1) -> None:
        self._class = klass
        self._knobs: Dict[str, Knob] = {}
        self._inputs: List[Optional[Node]] = [None] * max_inputs
        self._deleted = False
        self._parent: Optional[Group] = None
        for knob in [String_Knob("name"), String_Knob("label"), make_knob(Int_Knob, "xpos", value=0),
                     make_knob(Int_Knob, "ypos", value=0), Boolean_Knob("selected"), *knobs]:
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
        """'Group1.Read1' for a node inside Group1; just the name at the root."""
        parent = self._parent
        if parent is None or isinstance(parent, Root):
            return self.name()
        return f"{parent.fullName()}.{self.name()}"

    def parent(self) -> Group:
        if self._parent is None:
            raise ValueError(f"{self.name()} is not in a group")
        return self._parent

    def setName(self, name: str) -> None:
        siblings = self._parent._children if self._parent is not None else []
        if any(n is not self and n.name() == name for n in siblings):
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
        if not isinstance(knob, Knob):
            raise TypeError("addKnob needs a nuke.Knob")
        if knob._name in self._knobs:
            raise not_modelled(f"adding a second knob named {knob._name!r} to {self.name()}")
        if knob._node is not None:
            raise not_modelled(f"adding knob {knob._name!r} that is already on {knob._node.name()}")
        knob._user = True
        self._add(knob)

    def removeKnob(self, knob: Knob) -> None:
        if knob in state().this_knob:
            # Foundry documents no outcome for destroying the knob whose button press or knobChanged is
            # being handled: refuse, so code defers the removal until the callback has returned.
            raise not_modelled(f"removing knob {knob._name!r} while its own callback runs")
        if self._knobs.get(knob._name) is not knob:
            raise ValueError(f"knob {knob._name} is not on {self.name()}")
        if not knob._user:
            raise not_modelled(f"removing built-in knob {knob._name!r}")
        del self._knobs[knob._name]
        knob._node = None

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
        """Foundry: the highest connected input + 1 (0 when nothing is connected)."""
        connected = [i for i in range(len(self._inputs)) if self.input(i) is not None]
        return connected[-1] + 1 if connected else 0

    def maxInputs(self) -> int:
        return len(self._inputs)

    def format(self) -> Format:
        """The format of the image this node produces (Foundry: Node.format): a Read's own, else its
        input's, else the script's."""
        if "format" in self._knobs and self._class == "Read":
            return self._knobs["format"].value()  # type: ignore[no-any-return]
        upstream = self.input(0) if self._inputs else None
        return upstream.format() if upstream is not None else root().format()

    def width(self) -> int:
        return self.format().width()

    def channels(self) -> List[str]:
        """The channels this node outputs (Foundry: Node.channels). A Read gives its file's channels
        (alpha only if the file has one, or with auto_alpha); colour sources give rgba; other nodes
        their input's."""
        if self._class == "Read":
            from ._execute import frame_path
            from ._pixels import file_has_alpha

            path = frame_path(project_path(str(self._knobs["file"].value())), int(self._knobs["first"].value()))
            alpha = file_has_alpha(path) or bool(self._knobs["auto_alpha"].value())
            return ["rgba.red", "rgba.green", "rgba.blue", *(["rgba.alpha"] if alpha else [])]
        upstream = self.input(0) if self._inputs else None
        if upstream is not None:
            return upstream.channels()
        return ["rgba.red", "rgba.green", "rgba.blue", "rgba.alpha"]

    def height(self) -> int:
        return self.format().height()

    def setInput(self, i: int, node: Optional[Node]) -> bool:
        if i >= len(self._inputs):
            return False
        if node is not None and node._parent is not self._parent:
            raise not_modelled(f"connecting {node.fullName()} to {self.fullName()} across groups "
                               "(Nuke only connects nodes of the same group)")
        self._inputs[i] = node
        return True

    def connectInput(self, i: int, node: Optional[Node]) -> bool:
        return self.setInput(i, node)

    def dependent(self, mask: int = INPUTS, forceEvaluate: bool = True) -> List[Node]:
        siblings = self._parent._children if self._parent is not None else []
        return [n for n in siblings if self in n._inputs]

    def isSelected(self) -> bool:
        return bool(self._knobs["selected"]._value)

    def setSelected(self, selected: bool) -> None:
        self._knobs["selected"]._value = bool(selected)

    def selectOnly(self) -> None:
        for node in self._parent._children if self._parent is not None else []:
            node._knobs["selected"]._value = node is self

    def firstFrame(self) -> int:
        return self._frame_range()[0]

    def lastFrame(self) -> int:
        return self._frame_range()[1]

    def proxy(self) -> bool:
        return bool(root()["proxy"].value())

    def _frame_range(self) -> Tuple[int, int]:
        if self._class == "Read":
            from ._execute import read_frame_offset

            first, last = int(self._knobs["first"].value()), int(self._knobs["last"].value())
            offset = read_frame_offset(self)
            return first + offset, last + offset
        upstream = self.input(0)
        if upstream is not None:
            return upstream._frame_range()
        r = root()
        return int(r["first_frame"].value()), int(r["last_frame"].value())

    def error(self) -> bool:
        return False

    def hasError(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<fake {self._class} node {self._knobs['name']._value}>"


@main_thread_only
class Group(Node):
    def __init__(self, klass: str, knobs: List[Knob], max_inputs: int = 1) -> None:
        super().__init__(klass, knobs, max_inputs)
        self._children: List[Node] = []

    def begin(self) -> Group:
        state().context.append(self)
        return self

    def end(self) -> None:
        if not state().context or state().context[-1] is not self:
            raise RuntimeError(f"fake nuke: {self.name()}.end() without a matching begin()")
        state().context.pop()

    def __enter__(self) -> Group:
        return self.begin()

    def __exit__(self, *exc: Any) -> None:
        self.end()

    def nodes(self) -> List[Node]:
        return list(self._children)

    def node(self, s: str) -> Optional[Node]:
        return _resolve(s, self)


@main_thread_only
class Gizmo(Group):
    def filename(self) -> str:
        return str(getattr(self, "_filename", ""))

    def makeGroup(self) -> Group:
        """Foundry: "Creates a Group node copy of the Gizmo node": a Group in the current group with the
        gizmo's knobs (user knobs with their values) and a copy of its internals, unconnected (studio
        bake tools then move the connections and delete the gizmo)."""
        from ._create import copy_node

        return copy_node(self, as_group=True)  # type: ignore[return-value]


@main_thread_only
class Root(Group):
    def __init__(self) -> None:
        super().__init__("Root", _classes.root_knobs(), 0)
        self._knobs["name"]._value = ""

    def name(self) -> str:
        return "root"

    def fullName(self) -> str:
        return "root"

    def firstFrame(self) -> int:
        return int(self["first_frame"].value())

    def lastFrame(self) -> int:
        return int(self["last_frame"].value())

    def format(self) -> Format:
        return self["format"].value()  # type: ignore[no-any-return]

    def fps(self) -> float:
        return float(self["fps"].value())

    def modified(self) -> bool:
        """Foundry: Root.modified(), the flag that makes Nuke ask to save on close (see _undo)."""
        return state().modified

    def setModified(self, modified: bool) -> None:
        state().modified = bool(modified)


# ----------------------------------------------------------------------------- resolution
def root() -> Root:
    require_main_thread("root")
    if state().root is None:
        state().root = Root()
    return state().root  # type: ignore[return-value]


def thisGroup() -> Group:
    """The current group: innermost begin()/with, else root (not modelled inside knobChanged)."""
    if not state().context and state().in_knob_changed:
        raise not_modelled("the current group inside a knobChanged callback (open one with `with group:`)")
    return state().context[-1] if state().context else root()


def _resolve(path: str, group: Group) -> Optional[Node]:
    """'Read1', 'Group1.Read1' relative to group; 'root.X' absolute."""
    parts = path.split(".")
    if parts[0] == "root":
        group, parts = root(), parts[1:]
        if not parts:
            return group
    node: Optional[Node] = group
    for part in parts:
        if not isinstance(node, Group):
            return None
        node = next((n for n in node._children if n.name() == part), None)
    return node


def toNode(s: str) -> Optional[Node]:
    require_main_thread("toNode")
    if s == "root":
        return root()
    return _resolve(s, thisGroup())


def resolve_knob(reference: str, node: Optional[Node]) -> Knob:
    """'knob' (this node), 'this.knob', 'parent.knob', 'Node.knob', 'root.knob' as TCL/expressions do."""
    head, _, knob_name = reference.rpartition(".")
    if not head or head == "this":
        target = node
    elif head == "parent":
        target = node._parent if node is not None else None
    elif head == "root":
        target = root()
    else:
        base = node._parent if node is not None and node._parent is not None else thisGroup()
        target = _resolve(head, base)
    if target is None or knob_name not in target._knobs:
        if isinstance(target, Root) and knob_name == "name":
            return target._knobs["name"]
        raise RuntimeError(f"fake nuke: no knob {reference!r} (from {node.name() if node else 'script'})")
    return target._knobs[knob_name]


def project_path(path: str) -> str:
    """A relative file path resolved against root's evaluated project_directory (Project Settings)."""
    if not path or os.path.isabs(path) or path[1:3] in (":/", ":\\"):
        return path
    project = str(root()["project_directory"].value())
    return os.path.join(project, path).replace("\\", "/") if project else path
