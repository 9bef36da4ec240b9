"""A small block-style YAML writer for job templates (Nuke's Python has no PyYAML).

Scalars are written as JSON (strings double-quoted), which YAML 1.2 reads back unchanged; maps
and lists are written in block style so a wrangler can read and edit the template.
"""

from __future__ import annotations

import json
import re
from typing import Any, List

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def dump(data: Any) -> str:
    """`data` (dicts, lists, str, int, float, bool, None) as YAML text ending in a newline."""
    lines: List[str] = []
    _write(data, 0, lines)
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise TypeError("not a scalar")
    if value is None or isinstance(value, (bool, int, float, str)):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _write(value: Any, indent: int, lines: List[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            lines.append(pad + "{}")
        for key, item in value.items():
            name = str(key)
            head = f"{pad}{name if _PLAIN_KEY.match(name) else _scalar(name)}:"
            if isinstance(item, (dict, list)) and item:
                lines.append(head)
                _write(item, indent + 2, lines)
            else:
                lines.append(f"{head} {_inline(item)}")
    elif isinstance(value, list):
        if not value:
            lines.append(pad + "[]")
        for item in value:
            if isinstance(item, (dict, list)) and item:
                sub: List[str] = []
                _write(item, indent + 2, sub)
                lines.append(pad + "- " + sub[0][indent + 2:])
                lines.extend(sub[1:])
            else:
                lines.append(f"{pad}- {_inline(item)}")
    else:
        lines.append(pad + _scalar(value))


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)
