"""What the conversion remembers about a converted node, kept in its `_meta` and removed before sending.

The server ignores `_meta`; the frontend puts only `title` there. A converted node also carries,
under `_meta.nuke_comfyui`: `path` (the titles of the subgraph instances around it, for readable
labels), `dynamic_prompts` (its text inputs to resolve per job), and `dynamic_combos` (for each
dynamic combo input, each option's sub-inputs with their defaults, so a changed choice can be
rebuilt without asking a server again). `strip` removes the lot from a job's prompt.
"""

from __future__ import annotations

from typing import Any, Dict

KEY = "nuke_comfyui"
#: between the parts of a readable label: "Detailer \u203a KSampler \u203a steps"
SEPARATOR = " \u203a "


def get(node: Dict[str, Any], name: str) -> Any:
    """One mark of a prompt node, or None."""
    meta = node.get("_meta")
    marks = meta.get(KEY) if isinstance(meta, dict) else None
    return marks.get(name) if isinstance(marks, dict) else None


def put(node: Dict[str, Any], name: str, value: Any) -> None:
    meta = node.setdefault("_meta", {})
    meta.setdefault(KEY, {})[name] = value


def strip(prompt: Dict[str, Dict[str, Any]]) -> None:
    """Remove every mark in place (a job's prompt then holds exactly what the frontend would send)."""
    for node in prompt.values():
        meta = node.get("_meta")
        if isinstance(meta, dict):
            meta.pop(KEY, None)


def path(node: Dict[str, Any]) -> list:
    """Titles of the subgraph instances around the node, outermost first ([] at the top level)."""
    found = get(node, "path")
    return [str(t) for t in found] if isinstance(found, list) else []
