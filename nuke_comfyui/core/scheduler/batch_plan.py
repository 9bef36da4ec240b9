"""A frame-batch group's plan: the chunks, the batch inputs, and a chunk's batch out.

`FrameBatchPlan` is what a GroupPlan carries when its jobs are chunks (core/chunk_plan.py). At
dispatch, every frame of the job's chunk is staged on the chosen server and the prompt's batch
inputs are expanded for what that server has (core/frame_batch.py). At collection, a chunk's
outputs are mapped back to frames by batch index: image k of an output node is frame k of the
chunk. A chunk that returns another number of images is an error naming the chunk, the node
and both counts, never a shifted sequence. Frames the chunk alone makes go straight into the
sequence; frames it shares go aside for the seam blend (core/seams.py); with seam "cut" the
frames a later chunk owns are not fetched at all.

Video outputs (`SaveVideo`, `SaveWEBM`, `SaveAnimatedWEBP`, `SaveAnimatedPNG`) are kept as one
file per chunk (`<stem>.chunk<first>-<last><ext>`) and reported, not decoded back into frames:
those files are lossy, and a plate's frames should come back as images (docs/TEMPORAL.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

from nuke_comfyui.core import frame_batch
from nuke_comfyui.core.chunk_plan import FINAL, SKIPPED, STAGED, Chunk, ChunkPlan
from nuke_comfyui.core.errors import NukeComfyError, WorkflowError
from nuke_comfyui.core.frame_batch import BatchInput, HasClass
from nuke_comfyui.core.scheduler.results import OutputLayout, extension, fetch, wanted_outputs
from nuke_comfyui.core.seams import SeamFinisher, staged_path
from nuke_comfyui.core.sequence_pattern import SequencePattern

VIDEO_SAVERS = frozenset({"SaveVideo", "SaveWEBM", "SaveAnimatedWEBP", "SaveAnimatedPNG"})


class BatchCountError(NukeComfyError):
    """A chunk came back with another number of images than it has frames (the workflow's doing:
    not retried, since every server would answer the same)."""


@dataclass
class FrameBatchPlan:
    """How the jobs of a frame-batch group send their chunks and take their results back."""

    chunks: ChunkPlan
    inputs: List[BatchInput]
    #: the sequence pattern each batch input node reads its chunk's frames from
    patterns: Dict[str, str]
    seams: SeamFinisher
    video_nodes: FrozenSet[str] = field(default_factory=frozenset)

    def paths(self, frames: Sequence[int]) -> Dict[str, List[str]]:
        """The files of a chunk's frames, per batch input node, in frame order."""
        return {node: [SequencePattern.parse(pattern).path_for(f) for f in frames]
                for node, pattern in self.patterns.items()}

    def requirements(self) -> Tuple[FrozenSet[str], ...]:
        """Classes a server needs to join the batches (at least one of each set)."""
        return frame_batch.requirements(self.inputs)

    def chunk_of(self, frames: Sequence[int]) -> Chunk:
        """The plan's chunk whose frames these are (jobs are matched by frames, so a farm task's
        renumbered jobs still find theirs)."""
        for chunk in self.chunks.chunks:
            if chunk.frames == tuple(frames):
                return chunk
        raise NukeComfyError(f"frames {frames[0]}-{frames[-1]} are not a chunk of this render's plan")

    def expand_inputs(self, prompt: Dict[str, Any], staged: Dict[str, List[str]], has_class: HasClass) -> None:
        for item in self.inputs:
            frame_batch.expand(prompt, item, staged[item.node], has_class)


def frame_batch_plan(request: Any, template: Dict[str, Any], *, input_node: Optional[str], images: Dict[str, str],
                     chunks: ChunkPlan, output_nodes: Sequence[str], blender: Any) -> FrameBatchPlan:
    """The frame-batch part of a group's plan (raises WorkflowError / SeamBlendError at submit time)."""
    patterns: Dict[str, str] = {}
    if input_node is not None and request.input_pattern:
        patterns[input_node] = request.input_pattern
    for node_id, pattern in images.items():
        if "#" in pattern or "%" in pattern:
            patterns[node_id] = pattern
    if not patterns:
        raise WorkflowError(f"a chunk size of {chunks.size} needs a batch input: an image sequence for the "
                            "workflow's input node (--input) or another loader (--image NODE=seq.####.png)")
    inputs = [frame_batch.batch_input(template, node_id) for node_id in patterns]
    if not any(item.image_used or item.mask_used for item in inputs):
        raise WorkflowError("the workflow's batch input is not connected to anything; link its IMAGE output")
    seams = SeamFinisher(chunks, blender)
    seams.check()
    video = frozenset(n for n in output_nodes if template[n]["class_type"] in VIDEO_SAVERS)
    return FrameBatchPlan(chunks, inputs, patterns, seams, video)


def server_classes(pool: Any, name: str) -> HasClass:
    """What one server has, for choosing the batching node. A server whose node list is unknown
    (it never answered /object_info) gets the join every ComfyUI release has: ImageBatch."""
    known = getattr(pool, "known_classes", None)
    classes = known(name) if known is not None else None
    if classes is None:
        return lambda class_type: class_type == frame_batch.IMAGE_BATCH
    return lambda class_type: class_type in classes


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
) -> List[str]:
    """Bring a finished chunk's files home by batch index; returns the sequence files it completed."""
    chunk = batch.chunk_of(frames)
    per_node: Dict[str, List[Any]] = {str(node): [] for node in layout.output_nodes}
    for item in wanted_outputs(outputs, layout.output_nodes):
        per_node.setdefault(str(item.node_id), []).append(item)
    check_counts(chunk, variation, per_node, batch.video_nodes)
    dest_dir = layout.variation_dir(variation)
    dest_dir.mkdir(parents=True, exist_ok=True)
    paths: List[str] = []
    staged_stems: Dict[Tuple[str, str], None] = {}
    for node, items in per_node.items():
        stem = layout.stem(variation, node, 0)
        if node in batch.video_nodes:
            for k, item in enumerate(items):
                suffix = f"_{k}" if k else ""
                name = f"{stem}.chunk{chunk.frames[0]}-{chunk.frames[-1]}{suffix}{extension(item)}"
                paths.append(fetch(item, dest_dir, name, client=client, server=server, transfer=transfer))
            continue
        for frame, item in zip(chunk.frames, items):
            how = batch.chunks.delivery(chunk.index, frame)
            ext = extension(item)
            if how == SKIPPED:
                continue
            if how == FINAL:
                name = layout.file_name(variation, node, 0, frame, ext)
                paths.append(fetch(item, dest_dir, name, client=client, server=server, transfer=transfer))
            elif how == STAGED:
                target = staged_path(dest_dir, stem, frame, chunk.index, ext)
                target.parent.mkdir(exist_ok=True)
                fetch(item, target.parent, target.name, client=client, server=server, transfer=transfer)
                staged_stems[(stem, ext)] = None
    if staged_stems:
        paths.extend(batch.seams.after_chunk(dest_dir, list(staged_stems), chunk.index))
    return paths


def check_counts(chunk: Chunk, variation: int, per_node: Dict[str, List[Any]], video_nodes: FrozenSet[str]) -> None:
    """Every image output node must return exactly one image per frame of the chunk."""
    for node, items in per_node.items():
        if node in video_nodes or len(items) == len(chunk.frames):
            continue
        raise BatchCountError(
            f"chunk {chunk.index + 1} (frames {chunk.span}, v{variation + 1:02d}): output node {node} returned "
            f"{len(items)} image{'s' if len(items) != 1 else ''} for {len(chunk.frames)} frames; the workflow must "
            "keep one image per input frame (check nodes that add, drop or repeat frames)")


def finish_seams(batch: FrameBatchPlan, layout: OutputLayout, variations: Sequence[int]) -> List[str]:
    """Blend every shared frame whose renders are all in (resume, end of a render, a farm bundle's
    last step); returns the files made."""
    from nuke_comfyui.core.seams import stems_in

    made: List[str] = []
    for variation in variations:
        folder = layout.variation_dir(variation)
        made.extend(batch.seams.finish_ready(folder, stems_in(folder)))
    return made


def pending_seams(batch: FrameBatchPlan, layout: OutputLayout, variations: Sequence[int]) -> Dict[int, List[int]]:
    """Shared frames still waiting for a chunk, per variation (empty when every seam is made)."""
    from nuke_comfyui.core.seams import stems_in

    waiting: Dict[int, List[int]] = {}
    for variation in variations:
        folder = layout.variation_dir(variation)
        frames = batch.seams.pending(folder, stems_in(folder))
        if frames:
            waiting[variation] = frames
    return waiting

