"""Checks a render request must pass before any farm starts, any job is sent or any file written.

Why a separate step: a request that cannot run should fail in milliseconds with one message
naming the problem and the fix — not after the pool has started, the first jobs were sent and
each failed on its own. Everything here is local (files and settings), never the network:

- the request's own fields (`RenderRequest.validate`: frame-set grammar and cap, variations, ...);
- the output folder can be created and written (not a file, not under a file, not read-only);
- the workflow loads (API format, size and nesting limits);
- every input frame exists (one error listing the missing frames, not one failure per job);
- each server using transfer 'shared' has a usable `dir_local` (a ConfigError naming server
  and field), so a missing share is never replaced by a folder tree on the local disk.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Iterable, List, Optional

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.frames import FrameSet

#: how many missing input files a message names before it just counts them
NAMED_MISSING = 3


class OutputFolderError(NukeComfyError):
    """The output folder cannot be created or written."""


class MissingInputError(NukeComfyError):
    """Input frames the request needs are not on disk."""


def check_request(request: Any, servers: Optional[Iterable[Any]] = None) -> None:
    """Raise the first problem of `request` (and of the servers it would use), before anything runs."""
    from nuke_comfyui.core.ui_workflow import is_ui_workflow
    from nuke_comfyui.core.workflow import load_workflow, read_workflow_data

    request.validate()
    data = read_workflow_data(request.workflow_path)
    if not is_ui_workflow(data):  # a saved (UI) workflow is converted once the servers' node lists are known
        load_workflow(request.workflow_path)
    check_input_frames(request)
    if servers is not None:
        check_shared_storage(servers, request)
    check_output_folder(request.output_dir)  # last: it creates the folder the user chose


def check_output_folder(path: str) -> None:
    """Create `path` (the user chose it) and prove a file can be written there, or say why not."""
    problem = _blocking_file(path)
    if problem is None:
        try:
            os.makedirs(path, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
    if problem is not None:
        raise OutputFolderError(f"output folder {path} cannot be used: {problem}; choose a folder you can "
                                "write to")


def _blocking_file(path: str) -> Optional[str]:
    """'x is a file, not a folder' when `path` or one of its parents is an existing non-folder."""
    current = os.path.abspath(path)
    while True:
        if os.path.exists(current) and not os.path.isdir(current):
            return f"{current} is a file, not a folder"
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def check_input_frames(request: Any) -> None:
    """One MissingInputError naming the missing frames, when any input file is not on disk."""
    if not request.input_pattern:
        return
    from nuke_comfyui.core.sequence_pattern import SequencePattern

    pattern = SequencePattern.parse(request.input_pattern)
    frames = FrameSet.parse(request.frames)
    missing: List[int] = [frame for frame in frames if not os.path.isfile(pattern.path_for(frame))]
    if not missing:
        return
    named = ", ".join(pattern.path_for(frame) for frame in missing[:NAMED_MISSING])
    more = f" and {len(missing) - NAMED_MISSING} more" if len(missing) > NAMED_MISSING else ""
    raise MissingInputError(
        f"{len(missing)} of {len(frames)} input frames of {request.input_pattern} are not on disk "
        f"(frames {FrameSet(missing)}: {named}{more}); render only the frames that exist (e.g. --frames) "
        "or fix the input path")


def check_shared_storage(servers: Iterable[Any], request: Any) -> None:
    """ConfigError for the first server this request may use in transfer 'shared' whose dir_local is unusable."""
    wanted = set(request.servers or ())
    for server in servers:
        if not getattr(server, "enabled", True) or (wanted and server.name not in wanted):
            continue
        mode = request.transfer or getattr(server, "transfer", "upload")
        if mode == "shared":
            server.check_shared_storage(writes_inputs=bool(request.input_pattern))
