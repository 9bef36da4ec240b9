"""Numeric knobs (Int, Double, Boolean): constants, animation curves and expressions.

Source: Foundry's Python Developer's Guide, "Animation" (setAnimated, setValueAt, valueAt,
getValueAt, isAnimated, setExpression, hasExpression, getKeyList) and the Array_Knob reference.
Nuke interpolates between keys with smooth curves; the fake models only keys, holds outside
them and flat spans between equal keys, and raises for anything else.
"""

from __future__ import annotations

import ast
import operator
from typing import Any, Dict, List, Optional, Tuple

from ._knobs import (
    NO_ANIMATION,
    EvalString_Knob,
    File_Knob,
    Knob,
    Multiline_Eval_String_Knob,
    PyScript_Knob,
    String_Knob,
    Tab_Knob,
    Text_Knob,
)
from ._state import main_thread_only, not_modelled, state

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


C_INT_MIN, C_INT_MAX = -(2 ** 31), 2 ** 31 - 1


@main_thread_only
class Int_Knob(Array_Knob):
    """A whole number in a C `int` (the NDK's `Int_knob(Knob_Callback, int*, name, label)` stores an int,
    32 bits on every platform Nuke ships): a value outside it raises OverflowError, as converting a
    too-large Python int to a C int does."""

    _default: Any = 0

    def _convert(self, val: Any) -> Any:
        number = round(float(val))
        if not C_INT_MIN <= number <= C_INT_MAX:
            raise OverflowError(f"fake nuke: {self._name}: {val} does not fit Int_Knob's 32-bit C int")
        return number

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
class Enumeration_Knob(Array_Knob):
    """A pull-down: an Array_Knob holding the chosen item's index, with its items' words.

    Foundry's reference: Enumeration_Knob derives from Unsigned_Knob and Array_Knob; it "stores a
    single value between 0 and some maximum, and manages a set of keywords visible to the user ...
    written to the saved scripts (so that the numerical values can change)". So value() is the
    current item's word, while getValue(), valueAt(t) and getValueAt(t) are the index as a float
    (like every Array_Knob); setValue(word) picks by word and setValue(number) by index; it
    animates like any Array_Knob (a curve of indexes, saved as `{{curve ...}}`). An index or word
    the knob does not have raises ValueError.
    """

    _default: Any = 0

    def __init__(self, name: str, label: Optional[str], values: List[str]) -> None:
        super().__init__(name, label)
        self._values = [str(v) for v in values]
        self._value = 0

    def Class(self) -> str:
        return "Enumeration_Knob"

    def _convert(self, val: Any) -> Any:
        index = round(float(val))
        if not 0 <= index < max(1, len(self._values)):
            raise ValueError(f"Bad index for {self._name}: {val} (it has {len(self._values)} items)")
        return index

    def _index_of(self, word: str) -> int:
        if word not in self._values:
            raise ValueError(f"Bad value for {self._name}: {word!r} (one of {self._values})")
        return self._values.index(word)

    def values(self) -> List[str]:
        return list(self._values)

    def setValues(self, items: List[str]) -> None:
        if self.isAnimated():
            raise not_modelled(f"changing the items of animated pull-down {self._name}")
        current = self.value()
        self._values = [str(v) for v in items]
        self._value = self._values.index(current) if current in self._values else 0

    def numValues(self) -> int:
        return len(self._values)

    def enumName(self, n: int) -> str:
        return self._values[n]

    def value(self) -> str:
        return self._values[int(self._at(state().frame))] if self._values else ""

    def getValue(self) -> float:
        return float(self._at(state().frame))

    def valueAt(self, frame: float) -> float:
        return float(self._at(float(frame)))

    def getValueAt(self, frame: float) -> float:
        return float(self._at(float(frame)))

    def setValue(self, val: Any) -> bool:
        return super().setValue(self._index_of(val) if isinstance(val, str) else val)

    def setValueAt(self, val: Any, time: float) -> bool:
        return super().setValueAt(self._index_of(val) if isinstance(val, str) else val, time)

    def toScript(self) -> str:
        return super().toScript() if self.isAnimated() else self.value()

    def fromScript(self, script: str) -> None:
        text = script.strip()
        if text.startswith("{{"):
            super().fromScript(text)
            return
        self._curve, self._expression = None, None
        self._value = self._index_of(text)


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
