"""Seams: the frames neighbouring chunks share, made once every chunk holding them is in.

A chunk writes the frames only it makes straight into the sequence; a frame it shares with a
neighbour (seam "crossfade") is kept aside, per chunk, in the variation folder's `.seams/`:

    <variation dir>/.seams/<stem>.<frame:04d>.c<chunk:04d><ext>

When the last chunk holding a shared frame has been collected, the frame is blended from those
renders with the chunk plan's weights (core/chunk_plan.py) by a `Blender` (the pixel work lives
outside core, in nuke_comfyui/blend, because it needs numpy and image codecs), written under a
temporary name beside the sequence, renamed into place, and its renders aside are removed.

Readiness is read from the disk under one lock per group, after the chunk's own files are in
place, so of two chunks finishing together exactly one sees the other and blends; a crash
between collecting and blending leaves the renders aside, and `finish_ready` (run by a farm
bundle's last step) blends whatever is ready; resume renders the unrecorded chunk again, and a
chunk collected after its seam was already made reports that frame as its own (`_made_before`). Every
blend is a pure function of the renders and the weights: running it twice writes the same file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Protocol, Sequence, Set, Tuple

from nuke_comfyui.core.chunk_plan import STAGED, ChunkPlan
from nuke_comfyui.core.errors import NukeComfyError

SEAMS_FOLDER = ".seams"


class SeamBlendError(NukeComfyError):
    """A shared frame could not be blended (missing library, unreadable or mismatched renders)."""


class Blender(Protocol):
    """The pixel work of a seam (implemented in nuke_comfyui/blend, injected by CLI and host)."""

    def check(self) -> None:
        """Raise SeamBlendError naming what to install when blending cannot work in this process."""

    def blend(self, sources: Sequence[Tuple[str, float]], target: str) -> None:
        """Write `target` (same format as the sources) as the sum of each source times its weight, in float."""


@dataclass(frozen=True)
class SharedFrame:
    """One shared frame of one output: where its renders are kept and where the blend goes."""

    frame: int
    target: Path
    sources: Tuple[Tuple[Path, float], ...]


class NoBlender:
    """The blender of a farm made without one: every crossfade is refused at submit, by name."""

    def check(self) -> None:
        raise SeamBlendError("this render crossfades shared frames, and this process has no seam blender; use "
                             "the nuke-comfyui command or the Nuke plugin, or choose seam 'cut'")

    def blend(self, sources: Sequence[Tuple[str, float]], target: str) -> None:
        self.check()


def staged_path(variation_dir: Path, stem: str, frame: int, chunk_index: int, ext: str) -> Path:
    return variation_dir / SEAMS_FOLDER / f"{stem}.{frame:04d}.c{chunk_index:04d}{ext}"


class SeamFinisher:
    """The seams of one group: which shared frames can be made now, and making them."""

    def __init__(self, chunks: ChunkPlan, blender: Optional[Blender]) -> None:
        self.chunks = chunks
        self.blender = blender
        self._lock = threading.Lock()
        self._claimed: Set[Path] = set()

    def needs_blending(self) -> bool:
        return bool(self.chunks.shared_frames())

    def check(self) -> None:
        """Refuse a render whose seams this process could not blend, before anything is sent (a plan
        made only to be looked at, e.g. for a farm bundle, has no blender and is not checked)."""
        if self.needs_blending() and self.blender is not None:
            self.blender.check()

    def after_chunk(self, variation_dir: Path, stems: Sequence[Tuple[str, str]], chunk_index: int) -> List[str]:
        """Blend every shared frame of `chunk_index` whose renders are now all in; returns the new files.

        `stems`: (file stem, extension) of each output sequence the chunk wrote.
        """
        frames = self.chunks.chunks[chunk_index].frames
        made = self._blend_all(self._claim(variation_dir, stems, frames))
        return made + self._made_before(variation_dir, stems, frames, chunk_index)

    def _made_before(self, variation_dir: Path, stems: Sequence[Tuple[str, str]], frames: Sequence[int],
                     chunk_index: int) -> List[str]:
        """Shared frames of this chunk already blended before it was collected: the process was
        killed after a blend and before the journal recorded this chunk, so resume rendered it
        again. The frame is this chunk's delivery all the same (or its sequence would lack it); its
        new render aside can never be used (the neighbour's went with the blend) and is removed,
        with any render a blend killed before its clean-up left.
        A neighbour's blend removes this chunk's render too, so a frame is never reported twice."""
        found: List[str] = []
        with self._lock:
            for stem, ext in stems:
                for shared in self._shared(variation_dir, stem, ext, frames):
                    own = staged_path(variation_dir, stem, shared.frame, chunk_index, ext)
                    if shared.target not in self._claimed and shared.target.exists() and own.is_file():
                        for source, _ in shared.sources:  # own, and any a killed blend left behind
                            with contextlib.suppress(FileNotFoundError):
                                source.unlink()
                        found.append(str(shared.target))
        return found

    def finish_ready(self, variation_dir: Path, stems: Sequence[Tuple[str, str]]) -> List[str]:
        """Blend every shared frame of the whole shot whose renders are all in (idempotent)."""
        return self._blend_all(self._claim(variation_dir, stems, self.chunks.shared_frames()))

    def pending(self, variation_dir: Path, stems: Sequence[Tuple[str, str]]) -> List[int]:
        """Shared frames not made yet (some chunk holding them has not delivered)."""
        return sorted({shared.frame for stem, ext in stems for shared in self._shared(variation_dir, stem, ext,
                                                                                       self.chunks.shared_frames())
                       if not shared.target.exists()})

    def _shared(self, variation_dir: Path, stem: str, ext: str, frames: Sequence[int]) -> List[SharedFrame]:
        found = []
        for frame in frames:
            weights = self.chunks.weights(frame)
            if len(weights) < 2:
                continue
            sources = tuple((staged_path(variation_dir, stem, frame, c, ext), float(w)) for c, w in weights)
            found.append(SharedFrame(frame, variation_dir / f"{stem}.{frame:04d}{ext}", sources))
        return found

    def _claim(self, variation_dir: Path, stems: Sequence[Tuple[str, str]], frames: Sequence[int]) -> List[SharedFrame]:
        ready: List[SharedFrame] = []
        with self._lock:
            for stem, ext in stems:
                for shared in self._shared(variation_dir, stem, ext, frames):
                    if shared.target in self._claimed or shared.target.exists():
                        continue
                    if all(path.is_file() for path, _ in shared.sources):
                        self._claimed.add(shared.target)
                        ready.append(shared)
        return ready

    def _blend_all(self, ready: Sequence[SharedFrame]) -> List[str]:
        made: List[str] = []
        try:
            for shared in ready:
                made.append(str(self._blend(shared)))
        finally:
            with self._lock:
                self._claimed.difference_update(s.target for s in ready)
        return made

    def _blend(self, shared: SharedFrame) -> Path:
        return self.blend_into(shared.sources, shared.target, what=f"frame {shared.frame}")

    def blend_into(self, sources: Sequence[Tuple[Path, float]], target: Path, what: str = "a frame") -> Path:
        """Blend `sources` (path, weight) into `target` (written aside, renamed into place), then
        remove the sources. Also how a chunk sent as parts makes the frames two parts share."""
        if self.blender is None:
            raise SeamBlendError(f"{what} needs a seam blend and this process has no blender")
        fd, tmp = tempfile.mkstemp(dir=str(target.parent), prefix=".blend-", suffix=target.suffix)
        os.close(fd)
        try:
            self.blender.blend([(str(path), weight) for path, weight in sources], tmp)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        for path, _ in sources:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return target


def stems_in(variation_dir: Path) -> List[Tuple[str, str]]:
    """(stem, extension) of every output sequence that has renders kept aside in `variation_dir`."""
    folder = variation_dir / SEAMS_FOLDER
    found: Dict[Tuple[str, str], None] = {}
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    for name in names:
        parts = name.split(".")
        if len(parts) >= 4 and parts[-3].lstrip("-").isdigit() and parts[-2].startswith("c"):
            found[(".".join(parts[:-3]), "." + parts[-1])] = None
    return list(found)


def staged_frames(chunks: ChunkPlan, chunk_index: int) -> List[int]:
    """Frames chunk `chunk_index` keeps aside (those it shares under a crossfade)."""
    return [f for f in chunks.chunks[chunk_index].frames if chunks.delivery(chunk_index, f) == STAGED]


def describe_weights(chunks: ChunkPlan, frame: int) -> str:
    """"chunk 1 x 2/3 + chunk 2 x 1/3" (for logs and docs)."""
    return " + ".join(f"chunk {c} x {w}" for c, w in chunks.weights(frame))

