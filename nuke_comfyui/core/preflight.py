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
from nuke_comfyui.core.render_request import RequestError

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
        servers = list(servers)
        check_server_names(request.servers, servers)
        check_shared_storage(servers, request)
    check_output_folder(request.output_dir)


def check_output_folder(path: str) -> None:
    """Prove `path` can be created and written, or say why not; leave nothing behind.

    The folders this creates to prove it are removed again: the render creates the output folder
    when it starts, so a render refused later (an unknown node class, a `--set` error, a journal
    that cannot open) leaves no empty folder tree behind.
    """
    problem = _blocking_file(path)
    if problem is None:
        created = _missing_folders(path)
        try:
            os.makedirs(path, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
        finally:
            for folder in created:  # deepest first; one another process filled in meanwhile stays
                try:
                    os.rmdir(folder)
                except OSError:
                    break
    if problem is not None:
        raise OutputFolderError(f"output folder {path} cannot be used: {problem}; choose a folder you can "
                                "write to")


def _missing_folders(path: str) -> List[str]:
    """`path` and those of its parents that do not exist yet, deepest first."""
    missing: List[str] = []
    current = os.path.abspath(path)
    while not os.path.exists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return missing


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
        check_frame_headers(request.input_pattern, pattern, frames)
        return
    named = ", ".join(pattern.path_for(frame) for frame in missing[:NAMED_MISSING])
    more = f" and {len(missing) - NAMED_MISSING} more" if len(missing) > NAMED_MISSING else ""
    raise MissingInputError(
        f"{len(missing)} of {len(frames)} input frames of {request.input_pattern} are not on disk "
        f"(frames {FrameSet(missing)}: {named}{more}); render only the frames that exist (e.g. --frames) "
        "or fix the input path")


def check_server_names(names: Optional[Iterable[str]], servers: Iterable[Any]) -> None:
    """RequestError unless every name of a server subset (`--servers`) is a configured, enabled server.

    A name that matches nothing was silently ignored (`--servers nope,s0` rendered on s0 alone).
    """
    if names is None:
        return
    wanted = list(names)
    configured = {str(s.name): s for s in servers}
    listing = ", ".join(configured) or "none"
    if not wanted:
        raise RequestError(f"the server subset names no server; give names from: {listing}")
    unknown = [name for name in wanted if name not in configured]
    if unknown:
        raise RequestError(f"--servers names {', '.join(repr(n) for n in unknown)}, which "
                           f"{'is not a configured server' if len(unknown) == 1 else 'are not configured servers'} "
                           f"(configured: {listing}); check the spelling or the settings")
    disabled = [name for name in wanted if not getattr(configured[name], "enabled", True)]
    if len(disabled) == len(wanted):
        raise RequestError(f"--servers names only disabled servers ({', '.join(disabled)}); enable one in the "
                           "settings or choose others")


def check_frame_headers(text: str, pattern: Any, frames: FrameSet) -> None:
    """MissingInputError naming the frames that are not images (their first bytes say so)."""
    from nuke_comfyui.core.image_headers import image_problem

    bad = [(frame, problem) for frame in frames
           for problem in [image_problem(pattern.path_for(frame))] if problem is not None]
    if not bad:
        return
    named = ", ".join(f"{pattern.path_for(frame)}: {problem}" for frame, problem in bad[:NAMED_MISSING])
    more = f" and {len(bad) - NAMED_MISSING} more" if len(bad) > NAMED_MISSING else ""
    raise MissingInputError(
        f"{len(bad)} of {len(frames)} input frames of {text} are not readable images (frames "
        f"{FrameSet([frame for frame, _ in bad])}: {named}{more}); render them again or fix the input path")


def check_shared_storage(servers: Iterable[Any], request: Any) -> None:
    """ConfigError for the first server this request may use in transfer 'shared' whose dir_local is unusable."""
    wanted = set(request.servers or ())
    for server in servers:
        if not getattr(server, "enabled", True) or (wanted and server.name not in wanted):
            continue
        mode = request.transfer or getattr(server, "transfer", "upload")
        if mode == "shared":
            server.check_shared_storage(writes_inputs=bool(request.input_pattern))
