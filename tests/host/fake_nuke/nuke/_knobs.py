"""Knob classes with Nuke's constructor signatures, text evaluation, animation and expressions.

Sources: Foundry's Python API reference (nuke.Knob, Array_Knob, String_Knob, EvalString_Knob,
File_Knob, Enumeration_Knob) and the Python Developer's Guide chapters "Animation" and
"Custom Panels" (constructors such as `Int_Knob(name, label)`, `Boolean_Knob(name, label,
value)`, `Enumeration_Knob(name, label, values)`). Behaviour the fake cannot know (interpolation
between unequal keys, animated text) raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional

from . import _tcl
from ._state import main_thread_only, not_modelled, state

if TYPE_CHECKING:
    from ._nodes import Node

INVISIBLE = 0x400
STARTLINE = 0x1000
DISABLED = 0x80
READ_ONLY = 0x10000000
NO_ANIMATION = 0x100


@main_thread_only
class Knob:
    _default: Any = ""

    def __init__(self, name: str, label: Optional[str] = None) -> None:
        self._name = str(name)
        self._label = self._name if label is None else str(label)
        self._value: Any = self._default
        self._flags = 0
        self._tooltip = ""
        self._enabled = True
        self._node: Optional[Node] = None
        self._user = False   # added with addKnob / addUserKnob: saved with its definition

    def name(self) -> str:
        return self._name

    def label(self) -> str:
        return self._label

    def setLabel(self, label: str) -> None:
        self._label = label

    def value(self) -> Any:
        return self._value

    def getValue(self) -> Any:
        return self.value()

    def setValue(self, val: Any) -> bool:
        self._value = val
        return True

    def node(self) -> Node:
        if self._node is None:
            raise ValueError(f"knob {self._name} is not on a node")
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

    def enabled(self) -> bool:
        return self._enabled

    def setEnabled(self, enabled: bool) -> None:
        self._enabled = bool(enabled)

    def tooltip(self) -> str:
        return self._tooltip

    def setTooltip(self, tooltip: str) -> None:
        self._tooltip = tooltip

    def Class(self) -> str:
        return type(self).__name__

    def isAnimated(self) -> bool:
        return False

    def hasExpression(self) -> bool:
        return False

    def setAnimated(self) -> bool:
        raise not_modelled(f"animating a {type(self).__name__}")

    def setExpression(self, expression: str) -> bool:
        raise not_modelled(f"an expression on a {type(self).__name__}")

    def toScript(self) -> str:
        return str(self._value)

    def fromScript(self, script: str) -> None:
        self._value = script


# -------------------------------------------------------------------------------- text knobs
@main_thread_only
class String_Knob(Knob):
    """value() is TCL-evaluated text, getText() the raw text (Foundry: String_Knob.getText)."""

    def __init__(self, name: str, label: Optional[str] = None, value: str = "") -> None:
        super().__init__(name, label)
        self._value = str(value)

    def value(self) -> str:
        return _tcl.substitute(str(self._value), self._node)

    def getText(self) -> str:
        return str(self._value)

    def setValue(self, val: Any) -> None:  # type: ignore[override]
        self._value = str(val)

    def setText(self, val: Any) -> None:
        self._value = str(val)

    def toScript(self) -> str:
        return str(self._value)

    def fromScript(self, script: str) -> None:
        self._value = script


@main_thread_only
class EvalString_Knob(String_Knob):
    def evaluate(self, frame: Optional[float] = None) -> str:
        """The evaluated text at frame (default: the current frame), as Nuke's evaluate([time])."""
        if frame is None:
            return self.value()
        saved = state().frame
        state().frame = float(frame)
        try:
            return self.value()
        finally:
            state().frame = saved


@main_thread_only
class File_Knob(EvalString_Knob):
    def __init__(self, name: str, label: Optional[str] = None) -> None:
        super().__init__(name, label)

    def getEvaluatedValue(self) -> str:
        """TCL-evaluated, frame number filled in, relative to root's project_directory."""
        from ._execute import frame_path
        from ._nodes import project_path

        return project_path(frame_path(self.value(), int(state().frame)))

    def fromUserText(self, text: str) -> None:
        """As if typed in the file browser: 'path [first-last]'; a Read also learns range and format."""
        from ._create import read_from_user_text

        read_from_user_text(self, str(text))


@main_thread_only
class Multiline_Eval_String_Knob(EvalString_Knob):
    pass


@main_thread_only
class Text_Knob(Knob):
    def __init__(self, name: str, label: Optional[str] = None, text: str = "") -> None:
        super().__init__(name, label)
        self._value = str(text)


@main_thread_only
class Tab_Knob(Knob):
    def __init__(self, name: str, label: Optional[str] = None) -> None:
        super().__init__(name, label)


@main_thread_only
class Script_Knob(String_Knob):
    def __init__(self, name: str, label: Optional[str] = None, command: str = "") -> None:
        super().__init__(name, label, command)

    def value(self) -> str:
        return str(self._value)

    def command(self) -> str:
        return str(self._value)

    def setCommand(self, cmd: str) -> None:
        self._value = cmd

    def execute(self) -> None:
        from ._create import run_button

        run_button(self)


@main_thread_only
class PyScript_Knob(Script_Knob):
    pass


@main_thread_only
class PyCustom_Knob(Script_Knob):
    def getObject(self) -> Any:
        """Evaluate the command in a bare `__main__` (only nuke and nukescripts bound) and call makeUI."""
        import nukescripts

        scope = {"__builtins__": __builtins__, "nuke": __import__("nuke"), "nukescripts": nukescripts}
        holder = eval(compile(str(self._value), f"<PyCustom_Knob {self._name}>", "eval"), scope)
        return holder.makeUI()


@main_thread_only
class Enumeration_Knob(Knob):
    """value() is the item name, getValue() its index (Foundry: Enumeration_Knob)."""

    _default: Any = 0

    def __init__(self, name: str, label: Optional[str], values: List[str]) -> None:
        super().__init__(name, label)
        self._values = [str(v) for v in values]

    def values(self) -> List[str]:
        return list(self._values)

    def setValues(self, items: List[str]) -> None:
        current = self.value()
        self._values = [str(v) for v in items]
        self._value = self._values.index(current) if current in self._values else 0

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
