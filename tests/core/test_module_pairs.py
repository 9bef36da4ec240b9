"""No two modules of the package import each other (imports inside functions count too).

A pair that imports each other has no "lower" side: each change to one risks a circular import
at run time, and neither can be read or tested alone. The pairs still tangled when this test
was written are listed; untying one means deleting its line, and a new pair fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Set, Tuple

PACKAGE = Path(__file__).resolve().parents[2] / "nuke_comfyui"

STILL_TANGLED: Set[Tuple[str, str]] = set()  # (module, module), sorted; each owned by an open issue


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: Set[str]) -> Set[str]:
    """Package modules `path` imports anywhere in its body (`from x import y` counts y when y is a module)."""
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in modules:
                found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names} & modules
    return found


def _pairs() -> Set[Tuple[str, str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: Dict[str, Set[str]] = {name: _imports(path, set(files)) - {name} for name, path in files.items()}
    return {tuple(sorted((a, b))) for a, targets in graph.items() for b in targets  # type: ignore[misc]
            if a in graph.get(b, set()) and not (a.startswith(b + ".") or b.startswith(a + "."))}


def test_no_new_pair_of_modules_imports_each_other() -> None:
    assert _pairs() - STILL_TANGLED == set()


def test_every_pair_listed_as_tangled_still_is() -> None:
    """A pair untied is struck from STILL_TANGLED, so the list says what is left to do."""
    assert STILL_TANGLED - _pairs() == set()


def test_the_farm_task_and_render_command_are_untied() -> None:
    """`render` hands a farm task to cli/farm_task.py; both build on cli/render_setup.py, not on each other."""
    assert ("nuke_comfyui.cli.farm_task", "nuke_comfyui.cli.render_cmd") not in _pairs()
    assert "nuke_comfyui.cli.render_cmd" not in _imports(PACKAGE / "cli" / "farm_task.py",
                                                          {"nuke_comfyui.cli.render_cmd"})
