"""Put a Comfy node's input frames where the servers can read them, or reuse files already there.

A temporary Write renders the input into the shared folder of a server with shared storage
(`<dir_local>/input/nuke_comfyui/<node>_<stamp>/`), so servers read it without an upload; with no
shared server it goes under the output folder (`<output>/_input/`), from where core uploads it and
where a retry after a restart still finds it. The write is skipped entirely when the input is an
unmodified Read of image files ComfyUI can load that already sit on shared storage (or, with
upload transfer, anywhere on disk): re-rendering a plate that is already there only costs time.
"Already there" is checked as Nuke would read it: the file knob TCL-evaluated, a relative path
resolved against the project directory, no frame offset (`frame_mode`), and every asked frame
present on disk, and the file already holds what the plate should: an 8-bit image in the
script's sRGB texture space for the sRGB encoding, an EXR in the working space (or read raw) for
linear / data when the servers load EXR; anything else is written. The temporary nodes
(host/plate_chain.py) sit beside the Comfy node (not inside the gizmo), render with proxy mode
off, for one view, converted to the encoding's colour space of the script's own OCIO config,
as EXR or 8-bit PNG, with alpha when the workflow reads a mask from its input (alpha inverted
first, for ComfyUI's 1 - alpha), and count the pixels the plate clips. Each of the node's input
arrows is prepared this way (host/render.py).
"""

from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence

import nuke

from nuke_comfyui.core.pixels.choices import PlateEncoding
from nuke_comfyui.host import plate_chain
from nuke_comfyui.host.graph import beside
from nuke_comfyui.host.knobs import FrameRange, raw_text
from nuke_comfyui.host.plate_chain import PlateSettings

LOADABLE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
# Read knobs that change pixels when not at their default: a Read with any of them set is "modified".
PIXEL_KNOBS = ("premultiplied", "reformat", "disable")


@dataclass(frozen=True)
class SharedFolder:
    """A server's shared-storage root as seen from this machine (its `dir_local`)."""

    server: str
    dir_local: str


@dataclass(frozen=True)
class InputPlan:
    """Where the input frames are, whether we wrote them, and how many pixels they clip."""

    pattern: str
    written: bool
    clipped: int = 0


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path)).replace("\\", "/")


def _is_under(path: str, folder: str) -> bool:
    folder = _norm(folder).rstrip("/") + "/"
    return _norm(path).startswith(folder)


def evaluated_pattern(read: nuke.Node) -> Optional[str]:
    """The Read's file pattern as Nuke reads it (TCL evaluated, project-relative resolved), or None."""
    try:
        pattern = str(read["file"].value())
    except (RuntimeError, ValueError, SyntaxError):   # TCL that does not evaluate: let Nuke render it
        return None
    if pattern and not os.path.isabs(pattern) and not re.match(r"^[A-Za-z]:[\\/]", pattern):
        project = str(nuke.root()["project_directory"].value()).strip()
        if not project:
            return None
        pattern = os.path.join(project, pattern)
    return pattern.replace("\\", "/") if pattern else None


def _frame_file(pattern: str, frame: int) -> str:
    pattern = re.sub(r"#+", lambda m: f"%0{len(m.group(0))}d", pattern)
    return re.sub(r"%0?(\d*)d", lambda m: str(frame).zfill(int(m.group(1) or 0)), pattern)


def _offset(read: nuke.Node) -> int:
    """Frames the Read shifts its files by (frame_mode 'start at' / 'offset'); 0 when unshifted."""
    knobs = read.knobs()
    if "frame" not in knobs or not raw_text(read, "frame").strip():
        return 0
    return int(read.firstFrame()) - int(read["first"].value())


def _holds_the_plate(read: nuke.Node, pattern: str, settings: PlateSettings) -> bool:
    """The Read's files already hold the plate's numbers: sRGB files read as the sRGB space (8-bit
    formats), or EXR files in the working space (or raw) for linear / data on an EXR-loading farm."""
    from nuke_comfyui.host.colour import listing

    knobs = read.knobs()
    raw = "raw" in knobs and bool(knobs["raw"].value())
    space = str(knobs["colorspace"].value()) if "colorspace" in knobs else "default"
    names = listing()
    if settings.encoding is PlateEncoding.LINEAR and settings.format.is_float and pattern.lower().endswith(".exr"):
        if raw:
            return True
        default = str(nuke.root()["floatLut"].value()) if "floatLut" in nuke.root().knobs() else ""
        return names.canonical(default if space == "default" else space) == names.canonical(settings.working)
    if settings.encoding is not PlateEncoding.SRGB or raw or not pattern.lower().endswith(LOADABLE_EXTENSIONS):
        return False
    if settings.colour.name is None:
        return False
    default = str(nuke.root()["int8Lut"].value()) if "int8Lut" in nuke.root().knobs() else ""
    return names.canonical(default if space == "default" else space) == names.canonical(settings.colour.name)


def reusable_read_file(upstream: nuke.Node, frames: FrameRange, shared: Sequence[SharedFolder],
                       upload: bool, frame_list: Sequence[int] = (), *,
                       settings: Optional[PlateSettings] = None) -> Optional[str]:
    """The Read's file pattern when its files are exactly the frames asked for, as the plate, else None."""
    if upstream.Class() != "Read":
        return None
    knobs = upstream.knobs()
    if any(name in knobs and bool(knobs[name].value()) for name in PIXEL_KNOBS):
        return None
    pattern = evaluated_pattern(upstream)
    settings = settings or plate_chain.srgb_png()
    if pattern is None or _offset(upstream) or not _holds_the_plate(upstream, pattern, settings):
        return None
    if not (upstream.firstFrame() <= frames.first and frames.last <= upstream.lastFrame()):
        return None
    if any(not os.path.isfile(_frame_file(pattern, f)) for f in (frame_list or (frames.first, frames.last))):
        return None
    if any(_is_under(pattern, s.dir_local) for s in shared if s.dir_local):
        return pattern
    return pattern if upload else None


def safe_node_name(node: nuke.Node) -> str:
    """The node's full name as a file-name part ('Group1_ComfyRender1'), unique in the script."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(node.fullName()))


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


@contextmanager
def _proxy_off() -> Iterator[None]:
    """Render full resolution whatever the artist's proxy toggle says, and put it back after."""
    proxy = nuke.root()["proxy"]
    was = bool(proxy.value())
    if was:
        proxy.setValue(False)
    try:
        yield
    finally:
        if was:
            proxy.setValue(True)


def plate_view() -> str:
    """The view the plate is rendered for: the script's first view ('main' in a mono script)."""
    views = nuke.views()
    return str(views[0]) if views else "main"


def write_frames(node: nuke.Node, frames: Sequence[int], folder: str, with_alpha: bool = False, *,
                 index: int = 0, invert_alpha: bool = False, stem: str = "",
                 settings: Optional[PlateSettings] = None) -> InputPlan:
    """Render input `index` through a temporary plate chain beside the node; returns the written pattern.

    invert_alpha puts an Invert on alpha before the Write: ComfyUI's mask is 1 - the file's alpha
    (core/image_inputs), so the mask ComfyUI computes equals Nuke's alpha.
    """
    settings = settings or plate_chain.srgb_png()
    upstream = node.input(index)
    if upstream is None:
        raise RuntimeError(f"{node.fullName()}: input {index + 1} is not connected")
    safe = safe_node_name(node) + (f"_{re.sub(r'[^A-Za-z0-9_-]', '_', stem)}" if stem else "")
    pattern = os.path.join(folder, f"{safe}.%04d{settings.extension}").replace("\\", "/")
    os.makedirs(folder, exist_ok=True)
    with beside(node):
        chain = plate_chain.build(upstream, pattern, settings, alpha=with_alpha, invert_alpha=invert_alpha)
    clipped = 0
    try:
        with _proxy_off():
            for run in _runs(frames):
                nuke.execute(chain.write, run.start, run.stop - 1, 1, views=[plate_view()])
                clipped += plate_chain.clipped_pixels(chain, run.start, run.stop - 1)
    finally:
        plate_chain.delete(chain)
    return InputPlan(pattern=pattern, written=True, clipped=clipped)


def prepare_input(node: nuke.Node, frames: FrameRange, frame_list: Sequence[int], *,
                  shared: Sequence[SharedFolder], upload: bool, output_dir: str,
                  with_alpha: bool = False, index: int = 0, invert_alpha: bool = False,
                  folder: Optional[str] = None, stem: str = "",
                  settings: Optional[PlateSettings] = None) -> Optional[InputPlan]:
    """Input `index`'s pattern for the request (None when nothing is connected), writing frames if needed.

    An input whose alpha is used is always written (a Read's file has the wrong polarity, or no
    alpha at all); `folder` lets several inputs of one render share one input folder.
    """
    upstream = node.input(index)
    if upstream is None:
        return None
    uses_alpha = with_alpha or invert_alpha
    reused = None if uses_alpha else reusable_read_file(upstream, frames, shared, upload, frame_list,
                                                                    settings=settings)
    if reused is not None:
        return InputPlan(pattern=reused, written=False)
    folder = folder or input_folder(safe_node_name(node), [] if upload else shared, output_dir)
    return write_frames(node, frame_list, folder, with_alpha, index=index, invert_alpha=invert_alpha, stem=stem,
                        settings=settings)
