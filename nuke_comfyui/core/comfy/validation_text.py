"""ComfyUI's prompt validation errors as text an artist can act on: one line per node and input.

ComfyUI's 400 answer puts the useful words in `node_errors[*].errors[*].details` (the top-level
`error.details` is often empty), and a 200 can carry `node_errors` for branches it dropped; both
are rendered here, apart from the HTTP code in client.py.
"""

from __future__ import annotations

from typing import Any, Dict, List


def render_validation(error: Dict[str, Any], node_errors: Dict[str, Any]) -> str:
    """ComfyUI's 400 as readable text: the error message, then one line per node and input."""
    message = str(error.get("message") or "the prompt is invalid").strip()
    details = str(error.get("details") or "").strip()
    head = f"{message}: {details}" if details and not node_errors else message
    lines = render_node_errors(node_errors)
    return head + ("\n" + lines if lines else "")


def render_node_errors(node_errors: Dict[str, Any]) -> str:
    """`node 1 (LoadImage) input image: Invalid image file: nope.png`, one line per error."""
    lines: List[str] = []
    for node_id, node in node_errors.items():
        if not isinstance(node, dict):
            lines.append(f"node {node_id}: {node}")
            continue
        class_type = node.get("class_type")
        where = f"node {node_id} ({class_type})" if class_type else f"node {node_id}"
        errors = node.get("errors")
        for err in errors if isinstance(errors, list) else []:
            lines.append(_render_one(where, err))
    return "\n".join(lines)


def _render_one(where: str, err: Any) -> str:
    if not isinstance(err, dict):
        return f"{where}: {err}"
    extra = err.get("extra_info")
    input_name = extra.get("input_name") if isinstance(extra, dict) else None
    message = str(err.get("message") or "").strip()
    details = str(err.get("details") or "").strip()
    if input_name and details.startswith(f"{input_name} - "):
        details = details[len(input_name) + 3:]
    if input_name and details == input_name:
        details = ""
    text = details or message or "invalid"
    if details and message and details != message and not input_name:
        text = f"{message}: {details}"
    return f"{where} input {input_name}: {text}" if input_name else f"{where}: {text}"


