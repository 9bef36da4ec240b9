"""Frame batches for temporal models: how a shot is cut into chunks, and what each chunk delivers.

A temporal model (video depth, matting, relighting, video-to-video) takes N frames as one prompt
and keeps them consistent with each other. A shot is cut into chunks of `size` frames; each chunk
starts `size - overlap` frames after the previous one, so neighbours share `overlap` frames. A
chunk never spans a gap in the frame set (frames either side of a gap are not neighbours), and
the last chunk of a run of consecutive frames is shorter when the run does not divide evenly:
it always holds at least one frame its predecessor lacks, so no frame is rendered by a chunk for
nothing.

Seams. Where chunks share frames, each output frame is a weighted blend of every chunk that
rendered it, computed in float (the pixel work: nuke_comfyui/blend). The weights are a partition
of unity built from linear ramps, exact as fractions:

- a chunk of L frames that shares `a` frames with the chunk before it and `b` frames with the
  chunk after it has, at its position p (0-based), the window
  w(p) = min((p + 1) / (a + 1) if p < a else 1, (L - p) / (b + 1) if p >= L - b else 1);
- the weight of chunk c at frame f is w_c(f) divided by the sum of the windows of every chunk
  holding f.

For two chunks sharing m frames this is the linear crossfade: at the j-th shared frame (1-based)
the later chunk weighs j / (m + 1) and the earlier one (m + 1 - j) / (m + 1); with overlap 2 the
weights are 1/3, 2/3. When the overlap is more than half a chunk a frame can lie in three chunks;
the normalised windows still sum to one. With seam "cut" each frame is taken whole from the
latest chunk holding it (the earlier chunk's shared frames only warmed the model up).

Everything here is a pure function of (frames, size, overlap, seam): the result of a frame never
depends on which server rendered which chunk, or in which order chunks finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from nuke_comfyui.core.errors import NukeComfyError

SEAMS = ("crossfade", "cut")
CHUNK_SEEDS = ("same", "per-chunk")


class ChunkPlanError(NukeComfyError, ValueError):
    """A chunk size, overlap or seam that cannot cut this shot (the message names the fix)."""


@dataclass(frozen=True)
class Chunk:
    """One chunk: its place in the plan and its frames, in order (image k of its batch is frames[k])."""

    index: int
    frames: Tuple[int, ...]

    @property
    def span(self) -> str:
        """"1001-1081" (or one frame)."""
        return f"{self.frames[0]}-{self.frames[-1]}" if len(self.frames) > 1 else str(self.frames[0])


#: how a chunk delivers one of its frames
FINAL = "final"  # the chunk alone makes this frame: written straight into the sequence
STAGED = "staged"  # shared with other chunks: kept aside until every chunk holding it is in
SKIPPED = "skipped"  # "cut" seam, a later chunk owns the frame: nothing is written


class ChunkPlan:
    """The chunks of one shot and the seam weights of every frame."""

    def __init__(self, frames: Iterable[int], size: int, overlap: int = 0, seam: str = "crossfade") -> None:
        frames = sorted(set(int(f) for f in frames))
        check(len(frames), size, overlap, seam, describe=_describe(frames))
        self.size = size
        self.overlap = overlap
        self.seam = seam
        self.chunks: List[Chunk] = []
        for run in _runs(frames):
            for chunk_frames in _cut_run(run, size, overlap):
                self.chunks.append(Chunk(len(self.chunks), chunk_frames))
        self._holders: Dict[int, List[int]] = {}
        for chunk in self.chunks:
            for frame in chunk.frames:
                self._holders.setdefault(frame, []).append(chunk.index)
        self._windows = [self._window(chunk) for chunk in self.chunks]

    def __len__(self) -> int:
        return len(self.chunks)

    def holders(self, frame: int) -> List[int]:
        """Indices of the chunks that render `frame`, earliest first."""
        return list(self._holders.get(frame, ()))

    def weights(self, frame: int) -> List[Tuple[int, Fraction]]:
        """(chunk index, weight) of every chunk that contributes to `frame`; weights sum to 1."""
        holders = self._holders.get(frame)
        if not holders:
            raise ChunkPlanError(f"frame {frame} is not a frame of this shot")
        if self.seam == "cut":
            return [(holders[-1], Fraction(1))]
        windows = [(c, self._windows[c][self.chunks[c].frames.index(frame)]) for c in holders]
        total = sum(w for _, w in windows)
        return [(c, w / total) for c, w in windows if w]

    def delivery(self, chunk_index: int, frame: int) -> str:
        """How chunk `chunk_index` delivers `frame`: FINAL, STAGED or SKIPPED."""
        contributors = self.weights(frame)
        if not any(c == chunk_index for c, _ in contributors):
            return SKIPPED
        return FINAL if len(contributors) == 1 else STAGED

    def shared_frames(self) -> List[int]:
        """Frames made by blending several chunks (empty with seam "cut" or no overlap)."""
        return [f for f in sorted(self._holders) if len(self.weights(f)) > 1]

    def rendered_frames(self) -> int:
        """Frames sent to servers in total (shared frames count once per chunk)."""
        return sum(len(chunk.frames) for chunk in self.chunks)

    def delivered_frames(self) -> int:
        return len(self._holders)

    def _window(self, chunk: Chunk) -> List[Fraction]:
        previous = self.chunks[chunk.index - 1] if chunk.index > 0 else None
        following = self.chunks[chunk.index + 1] if chunk.index + 1 < len(self.chunks) else None
        lead = len(set(chunk.frames) & set(previous.frames)) if previous is not None else 0
        trail = len(set(chunk.frames) & set(following.frames)) if following is not None else 0
        length = len(chunk.frames)
        window = []
        for p in range(length):
            up = Fraction(p + 1, lead + 1) if p < lead else Fraction(1)
            down = Fraction(length - p, trail + 1) if p >= length - trail else Fraction(1)
            window.append(min(up, down))
        return window


def check(frame_count: int, size: int, overlap: int, seam: str, *, describe: str = "") -> None:
    """Refuse what cannot cut a shot of `frame_count` frames, naming the fix (docs/BAD_INPUT.md)."""
    shot = describe or f"{frame_count} frames"
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ChunkPlanError(f"chunk size must be a whole number of frames, at least 1, not {size!r}")
    if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 0:
        raise ChunkPlanError(f"overlap must be a whole number of frames, 0 or more, not {overlap!r}")
    if seam not in SEAMS:
        raise ChunkPlanError(f"seam {seam!r} is unknown; use {' or '.join(SEAMS)}")
    if overlap and overlap >= size:
        raise ChunkPlanError(f"overlap {overlap} must be smaller than the chunk size {size} (neighbouring "
                             f"chunks share the overlap); use an overlap of at most {size - 1}")
    if size > 1 and frame_count and size > frame_count:
        raise ChunkPlanError(f"chunk size {size} is larger than the shot ({shot}); "
                             f"use a chunk size of at most {frame_count}")


def chunk_seed(seed: int, chunk_index: int) -> int:
    """The seed of chunk `chunk_index` under the "per-chunk" policy: chunk 0 keeps the variation's
    seed, later chunks get a seed hashed from (seed, index), so it is the same on every server,
    retry and resume, and never collides with a neighbouring variation's sequential seed."""
    if chunk_index == 0:
        return seed
    import hashlib

    digest = hashlib.blake2b(f"{seed}:{chunk_index}".encode(), digest_size=8, key=b"chunk").digest()
    return int.from_bytes(digest, "big") >> 1  # 0 ... 2**63 - 1, like every seed


def plan_for(frames: Sequence[int], size: int, overlap: int = 0, seam: str = "crossfade") -> Optional[ChunkPlan]:
    """The plan of a frame-batch render, or None for a per-frame one (size 1)."""
    if size == 1 and not overlap:
        return None
    return ChunkPlan(frames, size, overlap, seam)


def _runs(frames: Sequence[int]) -> List[List[int]]:
    runs: List[List[int]] = []
    for frame in frames:
        if runs and frame == runs[-1][-1] + 1:
            runs[-1].append(frame)
        else:
            runs.append([frame])
    return runs


def _cut_run(run: Sequence[int], size: int, overlap: int) -> List[Tuple[int, ...]]:
    stride = size - overlap
    out: List[Tuple[int, ...]] = []
    start = 0
    while True:
        out.append(tuple(run[start:start + size]))
        if start + size >= len(run):
            return out
        start += stride


def _describe(frames: Sequence[int]) -> str:
    if not frames:
        return "no frames"
    if frames[-1] - frames[0] + 1 == len(frames):
        return f"{len(frames)} frames, {frames[0]}-{frames[-1]}"
    return f"{len(frames)} frames between {frames[0]} and {frames[-1]}"
