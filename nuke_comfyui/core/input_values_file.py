"""A render's workflow input values as a file: how the Nuke node's Workflow tab reaches farm workers.

The node's knobs become `RenderRequest.values` (one value for every job) and `frame_values`
(animated or expression knobs, one value per frame). A farm task is a new process on another
machine, so the bundle carries them in a small JSON file passed to `render --values FILE`:

    {"values": {"3.denoise": 0.4}, "frame_values": {"6.text": {"1001": "shot a", "1002": "shot b"}}}

Keys are the workflow's input keys (`<node id>.<input>`, as `nuke-comfyui inputs` lists them);
frame numbers are strings, as in the journal. `--set` on the same command line wins over the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, Optional, Tuple

from nuke_comfyui.core import text_files
from nuke_comfyui.core.render_request import RequestError

Values = Dict[str, Any]
FrameValues = Dict[str, Dict[str, Any]]
MAX_BYTES = 32 * 1024 * 1024


def write_values_file(path: str, values: Optional[Values], frame_values: Optional[FrameValues]) -> str:
    """Write the values next to a bundle (atomically: a worker never reads half a file); returns path."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    text = json.dumps({"values": values or {}, "frame_values": frame_values or {}}, indent=1, sort_keys=True)
    handle, temporary = tempfile.mkstemp(prefix=".values-", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return os.path.abspath(path)


def read_values_file(path: str) -> Tuple[Optional[Values], Optional[FrameValues]]:
    """(values, frame_values) from a `--values` file; RequestError naming the file and the fix."""
    fix = "write it as {\"values\": {\"NODE.INPUT\": value}, \"frame_values\": {\"NODE.INPUT\": {\"FRAME\": value}}}"
    try:
        data = json.loads(text_files.read_text(path, MAX_BYTES))  # a regular file, capped; a BOM is fine
    except text_files.TooLarge:
        raise RequestError(f"--values file {path} is larger than {MAX_BYTES // (1024 * 1024)} MB; {fix}") from None
    except OSError as exc:
        raise RequestError(f"--values file {path} cannot be read ({exc.strerror or exc}); check the path") from None
    except ValueError as exc:
        raise RequestError(f"--values file {path} is not valid JSON ({exc}); {fix}") from None
    if not isinstance(data, dict) or set(data) - {"values", "frame_values"}:
        raise RequestError(f"--values file {path} must be an object with only 'values' and 'frame_values'; {fix}")
    values, frame_values = data.get("values") or {}, data.get("frame_values") or {}
    if not isinstance(values, dict) or not isinstance(frame_values, dict) or not all(
            isinstance(per_frame, dict) for per_frame in frame_values.values()):
        raise RequestError(f"--values file {path}: 'values' must map keys to values and 'frame_values' keys to "
                           f"{{frame: value}}; {fix}")
    return values or None, frame_values or None
