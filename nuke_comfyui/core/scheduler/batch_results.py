"""The batch out: a finished chunk's images mapped back to its frames by batch index.

Image k of an output node is frame k of the chunk (of the part, when the chunk was sent as parts
after running out of memory: core/chunk_split.py; a frame two parts rendered is their blend). A
chunk that returns another number of images is an error naming the chunk, the node and both
counts, never a shifted sequence. Frames the chunk alone makes go straight into the sequence;
frames it shares go aside for the seam blend (core/seams.py); with seam "cut" the frames a later
chunk owns are not fetched at all.

Video outputs (`SaveVideo`, `SaveWEBM`, `SaveAnimatedWEBP`, `SaveAnimatedPNG`) are kept as one
file per chunk (`<stem>.chunk<first>-<last><ext>`) and reported, not decoded back into frames:
those files are lossy, and a plate's frames should come back as images (docs/TEMPORAL.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.core import chunk_split
from nuke_comfyui.core.chunk_plan import FINAL, SKIPPED, Chunk, ChunkPlan
from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.scheduler.batch_plan import FrameBatchPlan
from nuke_comfyui.core.scheduler.results import OutputLayout, extension, fetch
from nuke_comfyui.core.seams import SEAMS_FOLDER, staged_path, stems_in
from nuke_comfyui.core.variation_names import variation_name

PartItems = Dict[Tuple[str, int], List[Any]]  # (output node, part) -> its images in batch order


class BatchCountError(NukeComfyError):
    """A chunk came back with another number of images than it has frames (the workflow's doing:
    not retried, since every server would answer the same)."""


def collect_chunk(
    batch: FrameBatchPlan,
    layout: OutputLayout,
    *,
    variation: int,
    frames: Sequence[int],
    outputs: Sequence[Any],
    client: Any,
    server: Any,
    transfer: str,
    attempts: Sequence[Any] = (),
    max_bytes: Optional[int] = None,
) -> List[str]:
    """Bring a finished chunk's files home by batch index; returns the sequence files it completed."""
    chunk = batch.chunk_of(frames)
    pieces = batch.parts(chunk.frames, attempts)
    part_frames = [p.frames for p in pieces.chunks] if pieces is not None else [chunk.frames]
    nodes = [str(node) for node in layout.output_nodes]
    per_part: PartItems = {(node, p): [] for node in nodes for p in range(len(part_frames))}
    for item in outputs:
        node, part = chunk_split.node_part(str(item.node_id))
        if node in nodes and part < len(part_frames):
            per_part[(node, part)].append(item)
    check_counts(chunk, variation, per_part, part_frames, batch)
    dest_dir = layout.variation_dir(variation)
    dest_dir.mkdir(parents=True, exist_ok=True)
    fetched = _Fetcher(client, server, transfer, max_bytes)
    paths: List[str] = []
    staged_stems: Dict[Tuple[str, str], None] = {}
    for node in nodes:
        stem = layout.stem(variation, node, 0)
        if node in batch.video_nodes:
            for part, frames_of_part in enumerate(part_frames):
                span = f"{frames_of_part[0]}-{frames_of_part[-1]}"
                for k, item in enumerate(per_part[(node, part)]):
                    name = f"{stem}.chunk{span}{f'_{k}' if k else ''}{extension(item)}"
                    paths.append(fetched(item, dest_dir / name))
            continue
        for frame in chunk.frames:
            how = batch.chunks.delivery(chunk.index, frame)
            if how == SKIPPED:
                continue
            renders = _renders(frame, node, per_part, part_frames, pieces)
            ext = extension(renders[0][0])
            if how == FINAL:
                target = dest_dir / layout.file_name(variation, node, 0, frame, ext)
            else:
                target = staged_path(dest_dir, stem, frame, chunk.index, ext)
                target.parent.mkdir(exist_ok=True)
                staged_stems[(stem, ext)] = None
            _deliver(batch, renders, target, fetched)
            if how == FINAL:
                paths.append(str(target))
    if staged_stems:
        paths.extend(batch.seams.after_chunk(dest_dir, list(staged_stems), chunk.index))
    return paths


class _Fetcher:
    """One output file to one local path (copied from shared storage or downloaded)."""

    def __init__(self, client: Any, server: Any, transfer: str, max_bytes: Optional[int] = None) -> None:
        self.client, self.server, self.transfer, self.max_bytes = client, server, transfer, max_bytes

    def __call__(self, item: Any, target: Path) -> str:
        return fetch(item, target.parent, target.name, client=self.client, server=self.server, transfer=self.transfer,
                     max_bytes=self.max_bytes)


def _renders(frame: int, node: str, per_part: PartItems, part_frames: List[Tuple[int, ...]],
             pieces: Optional[ChunkPlan]) -> List[Tuple[Any, float]]:
    """The chunk's image(s) of `frame` with their weights: one, or the blend of the parts holding it."""
    if pieces is None:
        return [(per_part[(node, 0)][part_frames[0].index(frame)], 1.0)]
    return [(per_part[(node, part)][part_frames[part].index(frame)], float(weight))
            for part, weight in pieces.weights(frame)]


def _deliver(batch: FrameBatchPlan, renders: List[Tuple[Any, float]], target: Path, fetched: _Fetcher) -> None:
    if len(renders) == 1:
        fetched(renders[0][0], target)
        return
    aside = target.parent / SEAMS_FOLDER / "parts"
    aside.mkdir(parents=True, exist_ok=True)
    sources = []
    for n, (item, weight) in enumerate(renders):
        source = aside / f"{target.stem}.p{n}{target.suffix}"
        fetched(item, source)
        sources.append((source, weight))
    batch.seams.blend_into(sources, target)


def check_counts(chunk: Chunk, variation: int, per_part: PartItems, part_frames: List[Tuple[int, ...]],
                 batch: FrameBatchPlan) -> None:
    """Every image output node must return exactly one image per frame of the chunk (of each part)."""
    for (node, part), items in per_part.items():
        wanted = len(part_frames[part])
        if node in batch.video_nodes or len(items) == wanted:
            continue
        where = ("" if len(part_frames) == 1
                 else f" (part {part + 1} of {len(part_frames)}, after running out of memory)")
        raise BatchCountError(
            f"chunk {chunk.index + 1} (frames {chunk.span}, {variation_name(variation)}): output node {node}{where} "
            f"returned {len(items)} image{'s' if len(items) != 1 else ''} for {wanted} frames; the workflow must "
            "keep one image per input frame (check nodes that add, drop or repeat frames)")


def finish_seams(batch: FrameBatchPlan, layout: OutputLayout, variations: Sequence[int]) -> List[str]:
    """Blend every shared frame whose renders are all in (resume, end of a render, a farm bundle's
    last step); returns the files made."""
    made: List[str] = []
    for variation in variations:
        folder = layout.variation_dir(variation)
        made.extend(batch.seams.finish_ready(folder, stems_in(folder)))
    return made


def pending_seams(batch: FrameBatchPlan, layout: OutputLayout, variations: Sequence[int]) -> Dict[int, List[int]]:
    """Shared frames still waiting for a chunk, per variation (empty when every seam is made)."""
    waiting: Dict[int, List[int]] = {}
    for variation in variations:
        folder = layout.variation_dir(variation)
        frames = batch.seams.pending(folder, stems_in(folder))
        if frames:
            waiting[variation] = frames
    return waiting
