"""Test data for the conversion: recorded `/object_info` of real servers and ComfyUI's official templates.

The templates come from the PyPI package `comfyui-workflow-templates-json` (a test dependency,
never vendored): 600+ workflows saved by the real frontend. The `/object_info` files are real
captures kept compressed under tests/core/data/object_info (README there names the sources).
"""

from __future__ import annotations

import gzip
import json
import os
from functools import cache
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple

import comfyui_workflow_templates_json

DATA = Path(__file__).resolve().parents[1] / "data" / "object_info"
#: NUKE_COMFYUI_TEMPLATES_DIR measures another release of the package (one pip-installed with --target)
#: without changing the test environment, e.g. the templates of a server's own date
TEMPLATES = Path(os.environ.get("NUKE_COMFYUI_TEMPLATES_DIR")
                 or Path(comfyui_workflow_templates_json.__file__).parent / "templates")
#: editor-only node types (no server class): they never decide whether a template's classes are known
EDITOR_ONLY = {"Note", "MarkdownNote", "Reroute", "PrimitiveNode", "GetNode", "SetNode"}


@cache
def object_info(name: str = "comfyui-0.33.0") -> Dict[str, Any]:
    with gzip.open(DATA / f"{name}.json.gz", "rt", encoding="utf-8") as handle:
        return json.load(handle)


def template(name: str) -> Dict[str, Any]:
    return json.loads((TEMPLATES / name).read_text(encoding="utf-8"))


def templates() -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(file name, workflow) of every UI workflow in the package (the index files are skipped)."""
    for path in sorted(TEMPLATES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("nodes"), list):
            yield path.name, data


def node_types(data: Dict[str, Any]) -> Set[str]:
    """Server classes a workflow uses (subgraph instances and editor-only nodes left out)."""
    definitions: List[Dict[str, Any]] = []
    stack = [data]
    while stack:
        holder = stack.pop()
        for raw in (holder.get("definitions") or {}).get("subgraphs") or []:
            definitions.append(raw)
            stack.append(raw)
    ids = {str(d.get("id")) for d in definitions}
    nodes = list(data["nodes"]) + [n for d in definitions for n in d.get("nodes") or []]
    return {str(n.get("type")) for n in nodes} - ids - EDITOR_ONLY


def known(data: Dict[str, Any], info: Dict[str, Any]) -> bool:
    return all(kind in info for kind in node_types(data))
