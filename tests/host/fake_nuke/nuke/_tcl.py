"""TCL as Nuke uses it: knob-text substitution, and the word quoting of `.nk` script files.

Foundry's String_Knob docs: `value()` is "the evaluated value of this knob as a string",
`getText()` "the non-evaluated value". Evaluation is TCL substitution: `[command args]` runs a
command, `$var` / `$env(NAME)` reads a variable, backslash escapes (`\\[`, `\\$`, `\\\\`, `\\n`).
The fake knows the commands scripts commonly use in knob text (`frame`, `value`, `file dirname`,
`file tail`); any other command or variable raises, as an unknown one does in Nuke, so text
that merely *looks* like TCL (an error message with `[brackets]`) fails loudly when evaluated.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Optional, Tuple

from ._state import not_modelled, state

if TYPE_CHECKING:
    from ._nodes import Node

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


class TclError(RuntimeError):
    """A TCL evaluation error, as Nuke reports for a knob whose text does not evaluate."""


def _frame_text() -> str:
    frame = state().frame
    return str(int(frame)) if float(frame).is_integer() else repr(frame)


def _value_command(node: Optional[Node], args: List[str]) -> str:
    from ._nodes import resolve_knob

    if len(args) != 1:
        raise TclError(f'wrong # args: should be "value knob" (got {args})')
    return str(resolve_knob(args[0], node).value())


def _file_command(node: Optional[Node], args: List[str]) -> str:
    if len(args) != 2:
        raise TclError(f"fake nuke: file {' '.join(args)}: wrong arguments")
    op, path = args
    if op == "dirname":
        return posixpath.dirname(path.replace("\\", "/")) or "."
    if op == "tail":
        return posixpath.basename(path.replace("\\", "/"))
    raise not_modelled(f"TCL 'file {op}'")


_COMMANDS: Dict[str, Callable[[Optional[Node], List[str]], str]] = {
    "frame": lambda node, args: _frame_text(),
    "value": _value_command,
    "file": _file_command,
}


def _variable(name: str) -> str:
    if name.startswith("env(") and name.endswith(")"):
        key = name[4:-1]
        if key not in os.environ:
            raise TclError(f"can't read \"env({key})\": no such variable")
        return os.environ[key]
    if name == "gui":
        return "1" if state().gui else "0"
    raise TclError(f'can\'t read "{name}": no such variable')


def _scan_brackets(text: str, start: int) -> int:
    """Index just past the `]` matching the `[` at start (nested brackets and escapes respected)."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise TclError(f"missing close-bracket in {text!r}")


def _run_command(script: str, node: Optional[Node]) -> str:
    words = [substitute(w, node) if not w.startswith("{") else w[1:-1] for w in split_words(script)]
    if not words:
        return ""
    command = _COMMANDS.get(words[0])
    if command is None:
        raise TclError(f'invalid command name "{words[0]}"')
    return command(node, words[1:])


def substitute(text: str, node: Optional[Node] = None) -> str:
    """TCL substitution of knob text: commands, variables and backslash escapes."""
    out: List[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        elif c == "[":
            end = _scan_brackets(text, i)
            out.append(_run_command(text[i + 1:end - 1], node))
            i = end
        elif c == "$" and i + 1 < len(text):
            name, i = _variable_name(text, i + 1)
            out.append(_variable(name))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _variable_name(text: str, i: int) -> Tuple[str, int]:
    if text[i] == "{":
        end = text.index("}", i)
        return text[i + 1:end], end + 1
    j = i
    while j < len(text) and (text[j].isalnum() or text[j] in "_:"):
        j += 1
    if j < len(text) and text[j] == "(":
        j = text.index(")", j) + 1
    if j == i:
        raise TclError(f"bare $ in {text!r}")
    return text[i:j], j


# ------------------------------------------------------------------------- .nk word quoting
_BARE_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+/:%#@,=")


def quote(text: str) -> str:
    """A knob's raw text as one .nk word: bare when safe, else in quotes with TCL escapes.

    Nuke escapes `[` and `$` in saved values (e.g. a gizmo's `label "\\[value status]"`) so that
    reading the script back gives the raw text, not its evaluation.
    """
    if text and all(c in _BARE_SAFE for c in text):
        return text
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("[", "\\[").replace("$", "\\$")
               .replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r"))
    return f'"{escaped}"'


def unquote(word: str) -> str:
    """Inverse of quote for one word read from a .nk file (quoted, braced or bare)."""
    if word.startswith('"'):
        body = word[1:-1]
        if _unescaped(body, "[") or _unescaped(body, "$"):
            raise not_modelled(f"evaluating TCL while loading a script ({word[:60]!r})")
        return substitute(body)
    if word.startswith("{"):
        return word[1:-1]
    if "\\" in word or "[" in word or "$" in word:
        raise not_modelled(f"TCL substitution in a bare .nk word ({word[:60]!r})")
    return word


def _unescaped(body: str, char: str) -> bool:
    i = 0
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        if body[i] == char:
            return True
        i += 1
    return False


def split_words(text: str) -> List[str]:
    return list(iter_words(text))


def iter_words(text: str) -> Iterator[str]:
    """Split .nk/TCL text into words: "quoted" (kept quoted), {braced} (kept whole), bare."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            yield text[i:j + 1]
            i = j + 1
        elif c == "{":
            depth, j = 1, i + 1
            while j < n and depth:
                if text[j] == "\\":
                    j += 2
                    continue
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            yield text[i:j]
            i = j
        elif c == "[":
            j = _scan_brackets(text, i)
            while j < n and not text[j].isspace():
                j += 1
            yield text[i:j]
            i = j
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 2 if text[j] == "\\" else 1
            yield text[i:j]
            i = j
