"""The host layer imports downwards only: never the command line, and no two host modules import each other.

Read from the source with ast (every import, at the top or inside a function), so a lazy import
that hides a cycle still counts.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Set

HOST = Path(__file__).resolve().parents[2] / "nuke_comfyui" / "host"


def _imports() -> Dict[str, Set[str]]:
    found: Dict[str, Set[str]] = {}
    for path in HOST.glob("*.py"):
        names: Set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[path.stem] = names
    return found


def test_host_never_imports_the_command_line() -> None:
    offenders = {module: sorted(n for n in names if n.startswith("nuke_comfyui.cli"))
                 for module, names in _imports().items()}
    assert {m: n for m, n in offenders.items() if n} == {}


def test_no_two_host_modules_import_each_other() -> None:
    imports = _imports()

    def uses(module: str, other: str) -> bool:
        return f"nuke_comfyui.host.{other}" in imports[module]

    pairs = sorted({tuple(sorted((a, b))) for a in imports for b in imports if a != b and uses(a, b) and uses(b, a)})
    assert pairs == []
