"""The line of a settings file where its first problem is: for the Settings pane that shows a broken file.

A TD fixes a broken settings file in the Settings pane, which shows the file with the faulty line
marked. A JSON syntax error carries its line; a value the models refuse (a port of "80a", an unknown
key) only carries its place in the data (`servers`, 2, `port`), so `line_of` walks the JSON text
itself to the line where that value (or key) starts. Standard JSON only, as `json.loads` reads it.
"""

from __future__ import annotations

import json
from typing import Any, List, Optional, Sequence, Tuple, Union

from pydantic import ValidationError

Key = Union[str, int]


class _Walker:
    """A minimal JSON reader that remembers the line at which the value at `target` begins."""

    def __init__(self, text: str, target: Sequence[Key]) -> None:
        self.text, self.i, self.target = text, 0, list(target)
        self.found: Optional[int] = None

    def line(self) -> int:
        return self.text.count("\n", 0, self.i) + 1

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def value(self, path: List[Key]) -> None:
        self.skip()
        if path == self.target and self.found is None:
            self.found = self.line()
        char = self.text[self.i:self.i + 1]
        if char == "{":
            self.container(path, "}", keyed=True)
        elif char == "[":
            self.container(path, "]", keyed=False)
        elif char == '"':
            self.string()
        else:
            while self.i < len(self.text) and self.text[self.i] not in ",]} \t\r\n":
                self.i += 1

    def string(self) -> str:
        start = self.i
        self.i += 1
        while self.i < len(self.text) and self.text[self.i] != '"':
            self.i += 2 if self.text[self.i] == "\\" else 1
        self.i += 1
        return str(json.loads(self.text[start:self.i]))

    def container(self, path: List[Key], close: str, keyed: bool) -> None:
        self.i += 1
        index = 0
        while True:
            self.skip()
            if self.i >= len(self.text) or self.text[self.i] == close:
                self.i += 1
                return
            if keyed:
                key_line = self.line()
                key: Key = self.string()
                if [*path, key] == self.target and self.found is None:
                    self.found = key_line  # an unknown key: its own line
                self.skip()
                self.i += 1  # ':'
            else:
                key = index
            self.value([*path, key])
            index += 1
            self.skip()
            if self.text[self.i:self.i + 1] == ",":
                self.i += 1


def line_of(text: str, path: Sequence[Key]) -> Optional[int]:
    """The 1-based line where the value (or key) at path starts in JSON text, None when absent or unreadable."""
    walker = _Walker(text, path)
    try:
        walker.value([])
    except (ValueError, IndexError):
        return None
    return walker.found


def first_problem(text: str) -> Optional[Tuple[int, str]]:
    """(line, what) of the first problem in settings-file text, or None when the models accept it."""
    from nuke_comfyui.core.config import ClusterConfig, ServerConfig

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.msg
    if not isinstance(data, dict):
        return 1, "the file must hold a JSON object with a 'servers' list"
    servers = data.get("servers", [])
    if not isinstance(servers, list):
        return line_of(text, ["servers"]) or 1, "'servers' must be a list of server objects"
    for index, raw in enumerate(servers):
        if not isinstance(raw, dict):
            return line_of(text, ["servers", index]) or 1, f"server {index + 1} must be an object"
        try:
            ServerConfig(**raw)
        except (ValidationError, TypeError) as exc:
            return _located(text, ["servers", index], exc)
    fields = {k: v for k, v in data.items() if k != "servers"}
    try:
        ClusterConfig(servers=[], **fields)
    except (ValidationError, TypeError) as exc:
        return _located(text, [], exc)
    return None


def _located(text: str, base: List[Key], exc: Exception) -> Tuple[int, str]:
    errors: List[Any] = exc.errors() if isinstance(exc, ValidationError) else []
    loc = list(errors[0].get("loc", ())) if errors else []
    what = str(errors[0].get("msg", exc)) if errors else str(exc)
    for depth in range(len(loc), -1, -1):  # the deepest part of the path the text has
        line = line_of(text, [*base, *loc[:depth]])
        if line is not None:
            return line, what
    return 1, what
