"""Knob classes with Nuke's constructor signatures, text evaluation, animation and expressions.

Sources: Foundry's Python API reference (nuke.Knob, Array_Knob, String_Knob, EvalString_Knob,
File_Knob, Enumeration_Knob) and the Python Developer's Guide chapters "Animation" and
"Custom Panels" (constructors such as `Int_Knob(name, label)`, `Boolean_Knob(name, label,
value)`, `Enumeration_Knob(name, label, values)`). Behaviour the fake cannot know (interpolation
between unequal keys, animated text) raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

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
class OutputContext:
    """nuke.OutputContext: the frame (and view) a knob is evaluated at, e.g. `String_Knob.value(oc)`.

    Foundry's reference: OutputContext.frame/setFrame/view/setView; String_Knob.value(oc) "Get the
    evaluated value of this knob as a string", getText(oc) "the non-evaluated value".
    """

    def __init__(self) -> None:
        self._frame = float(state().frame)
        self._view = 1

    def frame(self) -> float:
        return self._frame

    def setFrame(self, frame: float) -> None:
        self._frame = float(frame)

    def view(self) -> int:
        return self._view

    def setView(self, view: int) -> None:
        self._view = int(view)


def _require_text(knob: Knob, val: Any) -> str:
    """A text knob takes a str. Foundry documents setValue(val) of a String_Knob with a string only;
    what Nuke makes of a list, None or a number there is not documented, so the fake refuses."""
    if not isinstance(val, str):
        raise TypeError(f"fake nuke: {type(knob).__name__} {knob._name!r}.setValue({val!r}): a text knob takes "
                        f"a str; converting a {type(val).__name__} is not documented, so the fake refuses "
                        "(convert it deliberately first)")
    return val


@main_thread_only
class String_Knob(Knob):
    """value() is TCL-evaluated text, getText() the raw text (Foundry: String_Knob.getText).

    Both take an optional OutputContext: `value(oc)` evaluates at oc's frame (Foundry 12.2+ reference:
    "value(self, oc): Get the evaluated value of this knob as a string").
    """

    def __init__(self, name: str, label: Optional[str] = None, value: str = "") -> None:
        super().__init__(name, label)
        self._value = str(value)

    def value(self, oc: Optional[OutputContext] = None) -> str:
        if oc is None:
            return _tcl.substitute(str(self._value), self._node)
        saved = state().frame
        state().frame = oc.frame()
        try:
            return _tcl.substitute(str(self._value), self._node)
        finally:
            state().frame = saved

    def getValue(self, oc: Optional[OutputContext] = None) -> str:  # type: ignore[override]
        return self.value(oc)

    def getText(self, oc: Optional[OutputContext] = None) -> str:
        return str(self._value)

    def setValue(self, val: Any, view: str = "default") -> None:  # type: ignore[override]
        self._value = _require_text(self, val)

    def setText(self, val: Any, view: str = "default") -> None:
        self._value = _require_text(self, val)

    def toScript(self) -> str:
        return str(self._value)

    def fromScript(self, script: str) -> None:
        self._value = script


@main_thread_only
class EvalString_Knob(String_Knob):
    def evaluate(self) -> str:
        """The text evaluated at the current frame. Foundry's reference: `evaluate(self)`, no arguments;
        to evaluate at another frame use `value(oc)` with an OutputContext."""
        return self.value()


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
