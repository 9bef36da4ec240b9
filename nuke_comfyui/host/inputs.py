"""Put a Comfy node's input frames where the servers can read them, or reuse files already there.

A temporary Write renders the input into the shared folder of a server with shared storage
(`<dir_local>/input/nuke_comfyui/<node>_<stamp>/`), so servers read it without an upload; with no
shared server it goes under the output folder (`<output>/_input/`), from where core uploads it and
where a retry after a restart still finds it. The write is skipped entirely when the input is an
unmodified Read of image files ComfyUI can load that already sit on shared storage (or, with
upload transfer, anywhere on disk): re-rendering a plate that is already there only costs time.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import List, Optional, Sequence

import nuke

from nuke_comfyui.host.knobs import FrameRange

LOADABLE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
# Read knobs that change pixels when not at their default: a Read with any of them set is "modified".
PIXEL_KNOBS = ("raw", "premultiplied", "reformat", "disable")


@dataclass(frozen=True)
class SharedFolder:
    """A server's shared-storage root as seen from this machine (its `dir_local`)."""

    server: str
    dir_local: str


@dataclass(frozen=True)
class InputPlan:
    """Where the input frames are, and whether we wrote them."""

    pattern: str
    written: bool


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path)).replace("\\", "/")


def _is_under(path: str, folder: str) -> bool:
    folder = _norm(folder).rstrip("/") + "/"
    return _norm(path).startswith(folder)


def reusable_read_file(upstream: nuke.Node, frames: FrameRange, shared: Sequence[SharedFolder],
                       upload: bool) -> Optional[str]:
    """The Read's file pattern when its files can go to ComfyUI as they are, else None."""
    if upstream.Class() != "Read":
        return None
    knobs = upstream.knobs()
    if any(name in knobs and bool(knobs[name].value()) for name in PIXEL_KNOBS):
        return None
    pattern = str(upstream["file"].value())
    if not pattern.lower().endswith(LOADABLE_EXTENSIONS):
        return None
    if not (upstream.firstFrame() <= frames.first and frames.last <= upstream.lastFrame()):
        return None
    if any(_is_under(pattern, s.dir_local) for s in shared if s.dir_local):
        return pattern
    return pattern if upload else None


def input_folder(node_name: str, shared: Sequence[SharedFolder], output_dir: str) -> str:
    """A new folder for this render's input frames (unique, so two renders never mix)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if shared:
        return os.path.join(shared[0].dir_local, "input", "nuke_comfyui", f"{node_name}_{stamp}")
    return os.path.join(output_dir, "_input", f"{node_name}_{stamp}")


def _runs(frames: Sequence[int]) -> List[range]:
    """Contiguous runs of sorted frames, so each Write execute covers one run."""
    runs: List[range] = []
    ordered = sorted(set(frames))
    start = prev = ordered[0] if ordered else 0
    for frame in ordered[1:]:
        if frame != prev + 1:
            runs.append(range(start, prev + 1))
            start = frame
        prev = frame
    if ordered:
        runs.append(range(start, prev + 1))
    return runs


def write_frames(node: nuke.Node, frames: Sequence[int], folder: str) -> str:
    """Render the node's input through a temporary PNG Write; returns the written file pattern."""
    upstream = node.input(0)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", node.name())
    pattern = os.path.join(folder, f"{safe}.%04d.png").replace("\\", "/")
    os.makedirs(folder, exist_ok=True)
    write = nuke.nodes.Write(file=pattern, file_type="png", create_directories=True)
    try:
        write.setInput(0, upstream)
        for run in _runs(frames):
            nuke.execute(write, run.start, run.stop - 1)
    finally:
        nuke.delete(write)
    return pattern


def prepare_input(node: nuke.Node, frames: FrameRange, frame_list: Sequence[int], *,
                  shared: Sequence[SharedFolder], upload: bool, output_dir: str) -> Optional[InputPlan]:
    """The input pattern for the request (None when nothing is connected), writing frames if needed."""
    upstream = node.input(0)
    if upstream is None:
        return None
    reused = reusable_read_file(upstream, frames, shared, upload)
    if reused is not None:
        return InputPlan(pattern=reused, written=False)
    folder = input_folder(node.name(), [] if upload else shared, output_dir)
    return InputPlan(pattern=write_frames(node, frame_list, folder), written=True)
