"""Knob classes with Nuke's constructor signatures, text evaluation, animation and expressions.

Sources: Foundry's Python API reference (nuke.Knob, Array_Knob, String_Knob, EvalString_Knob,
File_Knob, Enumeration_Knob) and the Python Developer's Guide chapters "Animation" and
"Custom Panels" (constructors such as `Int_Knob(name, label)`, `Boolean_Knob(name, label,
value)`, `Enumeration_Knob(name, label, values)`). Behaviour the fake cannot know (interpolation
between unequal keys, animated text) raises.
"""

from __future__ import annotations

import ast
import operator
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

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
        from ._nodes import read_from_user_text

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
        from ._nodes import run_button

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


# ---------------------------------------------------------------------------- numeric knobs
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Mod: operator.mod, ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}


def _eval_expression(expression: str, knob: Knob, frame: float) -> float:
    """Nuke expression arithmetic: numbers, frame, knob references (knob, Node.knob, root.knob)."""
    from ._nodes import resolve_knob

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return float(_OPS[type(node.op)](walk(node.left), walk(node.right)))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return float(_OPS[type(node.op)](walk(node.operand)))
        if isinstance(node, ast.Name) and node.id in ("frame", "t"):
            return frame
        if isinstance(node, (ast.Name, ast.Attribute)):
            target = resolve_knob(ast.unparse(node), knob._node)
            return float(target.valueAt(frame) if isinstance(target, Array_Knob) else target.value())
        raise not_modelled(f"expression syntax {ast.unparse(node)!r}")

    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise not_modelled(f"expression {expression!r}") from None
    return walk(tree)


@main_thread_only
class Array_Knob(Knob):
    """One-channel numeric knob: a constant, a curve of keys, or an expression."""

    _default: Any = 0.0

    def __init__(self, name: str, label: Optional[str] = None) -> None:
        super().__init__(name, label)
        self._curve: Optional[Dict[float, float]] = None
        self._expression: Optional[str] = None
        self._range: Tuple[float, float] = (0.0, 1.0)

    def _convert(self, val: Any) -> Any:
        return float(val)

    def _at(self, frame: float) -> Any:
        if self._expression is not None:
            return self._convert(_eval_expression(self._expression, self, frame))
        if self._curve:
            return self._convert(_curve_value(self._curve, frame, self._name))
        return self._value

    def value(self) -> Any:
        return self._at(state().frame)

    def valueAt(self, frame: float) -> Any:
        return self._at(float(frame))

    def getValueAt(self, frame: float) -> Any:
        return self._at(float(frame))

    def setValue(self, val: Any) -> bool:
        if self._expression is not None:
            raise not_modelled(f"setValue on {self._name} while it has an expression")
        if self._curve is not None:
            self._curve[state().frame] = float(self._convert(val))
        else:
            self._value = self._convert(val)
        return True

    def setRange(self, f1: float, f2: float) -> None:
        self._range = (float(f1), float(f2))

    def isAnimated(self) -> bool:
        return self._curve is not None or self._expression is not None

    def hasExpression(self) -> bool:
        return self._expression is not None

    def setAnimated(self) -> bool:
        if self._flags & NO_ANIMATION:
            return False
        if self._curve is None:
            self._curve = {state().frame: float(self._value)}
        return True

    def setValueAt(self, val: Any, time: float) -> bool:
        if self._curve is None:
            raise not_modelled(f"setValueAt on {self._name} before setAnimated()")
        self._curve[float(time)] = float(self._convert(val))
        return True

    def setExpression(self, expression: str) -> bool:
        self._expression = str(expression)
        return True

    def clearAnimated(self) -> bool:
        self._curve, self._expression = None, None
        return True

    def getKeyList(self) -> List[float]:
        return sorted(self._curve) if self._curve else []

    def getNumKeys(self) -> int:
        return len(self._curve or {})

    def isKeyAt(self, frame: float) -> bool:
        return float(frame) in (self._curve or {})

    def toScript(self) -> str:
        if self._expression is not None:
            return "{{" + self._expression + "}}"
        if self._curve is not None:
            keys = " ".join(f"x{_num(f)} {_num(v)}" for f, v in sorted(self._curve.items()))
            return "{{curve " + keys + "}}"
        return _num(self._value)

    def fromScript(self, script: str) -> None:
        text = script.strip()
        self._curve, self._expression = None, None
        if text.startswith("{{") and text.endswith("}}"):
            inner = text[2:-2].strip()
            if inner.startswith("curve"):
                self._curve = _parse_curve(inner[len("curve"):])
            else:
                self._expression = inner
            return
        self._value = self._convert(float(text) if text not in ("true", "false") else text == "true")


def _num(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _parse_curve(text: str) -> Dict[float, float]:
    """Nuke's `curve x1001 0 5 x1010 9`: x sets the frame, each value after it takes the next frame."""
    curve: Dict[float, float] = {}
    frame = 1.0
    for word in text.split():
        if word.startswith("x"):
            frame = float(word[1:])
        elif word[0].isalpha():
            raise not_modelled(f"curve interpolation keyword {word!r}")
        else:
            curve[frame] = float(word)
            frame += 1
    return curve


def _curve_value(curve: Dict[float, float], frame: float, name: str) -> float:
    """Keys exactly; held constant before the first and after the last key (Nuke's default).

    Between two keys Nuke uses smooth (cubic) interpolation; the fake models only the case
    where both neighbouring keys hold the same value.
    """
    keys = sorted(curve)
    if frame in curve:
        return curve[frame]
    if frame <= keys[0]:
        return curve[keys[0]]
    if frame >= keys[-1]:
        return curve[keys[-1]]
    before = max(k for k in keys if k < frame)
    after = min(k for k in keys if k > frame)
    if curve[before] == curve[after]:
        return curve[before]
    raise not_modelled(f"smooth interpolation of {name} between keys {before} and {after}")


@main_thread_only
class Int_Knob(Array_Knob):
    _default: Any = 0

    def _convert(self, val: Any) -> Any:
        return round(float(val))

    def value(self) -> int:
        return int(self._at(state().frame))

    def setValue(self, val: Any) -> bool:
        return super().setValue(val)


@main_thread_only
class Double_Knob(Array_Knob):
    def value(self) -> float:
        return float(self._at(state().frame))


@main_thread_only
class Boolean_Knob(Array_Knob):
    _default: Any = False

    def __init__(self, name: str, label: Optional[str] = None, value: bool = False) -> None:
        super().__init__(name, label)
        self._value = bool(value)

    def _convert(self, val: Any) -> Any:
        return bool(val)

    def value(self) -> bool:
        return bool(self._at(state().frame))

    def setValue(self, b: Any) -> bool:
        return super().setValue(b)

    def toScript(self) -> str:
        if self.isAnimated():
            return super().toScript()
        return "true" if self._value else "false"


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


# addUserKnob type ids (NDK "Knobs By ID", nuke.KnobType) <-> fake knob class.
KNOB_IDS: Dict[int, type] = {
    1: EvalString_Knob, 2: File_Knob, 3: Int_Knob, 4: Enumeration_Knob, 6: Boolean_Knob,
    7: Double_Knob, 20: Tab_Knob, 22: PyScript_Knob, 26: Text_Knob, 43: Multiline_Eval_String_Knob,
}
ID_OF_CLASS = {cls: n for n, cls in KNOB_IDS.items()}
ID_OF_CLASS[String_Knob] = 1


def make_knob(cls: type, name: str, label: Optional[str] = None, value: Any = None, **extra: Any) -> Knob:
    """Internal constructor (gizmo parsing, built-in nodes) that sets any starting value."""
    knob: Knob = cls(name, label, extra["values"]) if cls is Enumeration_Knob else cls(name, label)
    if value is not None:
        if isinstance(knob, Enumeration_Knob):
            knob.setValue(value)
        elif isinstance(knob, Array_Knob):
            knob._value = knob._convert(value)
        else:
            knob._value = str(value)
    return knob
