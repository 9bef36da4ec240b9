"""A frame-batch group's plan: the chunks, the batch inputs, and how a chunk's prompt is fed.

`FrameBatchPlan` is what a GroupPlan carries when its jobs are chunks (core/chunk_plan.py). At
dispatch, every frame of the job's chunk is staged on the chosen server and the prompt's batch
inputs are expanded for what that server has (core/frame_batch.py), as parts of the chunk after
an out-of-memory attempt when the artist allowed it (core/chunk_split.py). The batch out is
batch_results.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

from nuke_comfyui.core import chunk_split, frame_batch
from nuke_comfyui.core.chunk_plan import Chunk, ChunkPlan
from nuke_comfyui.core.errors import NukeComfyError, WorkflowError
from nuke_comfyui.core.frame_batch import BatchInput, HasClass
from nuke_comfyui.core.seams import SeamFinisher
from nuke_comfyui.core.sequence_pattern import SequencePattern

VIDEO_SAVERS = frozenset({"SaveVideo", "SaveWEBM", "SaveAnimatedWEBP", "SaveAnimatedPNG"})


@dataclass
class FrameBatchPlan:
    """How the jobs of a frame-batch group send their chunks and take their results back."""

    chunks: ChunkPlan
    inputs: List[BatchInput]
    #: the sequence pattern each batch input node reads its chunk's frames from
    patterns: Dict[str, str]
    seams: SeamFinisher
    video_nodes: FrozenSet[str] = field(default_factory=frozenset)
    #: a chunk that ran out of memory on the biggest server is retried as smaller parts
    split_on_oom: bool = False

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

    def expand_inputs(self, prompt: Dict[str, Any], frames: Sequence[int], staged: Dict[str, List[str]],
                      has_class: HasClass, attempts: Sequence[Any] = ()) -> None:
        """Feed the prompt's batch inputs the chunk's staged frames; after out-of-memory attempts
        (when allowed) as 2**level parts of the chunk in one prompt (core/chunk_split.py)."""
        pieces = self.parts(frames, attempts)
        if pieces is None:
            for item in self.inputs:
                frame_batch.expand(prompt, item, staged[item.node], has_class)
            return
        chunk_split.duplicate(prompt, [item.node for item in self.inputs], len(pieces))
        for part in pieces.chunks:
            where = chunk_split.positions(frames, part.frames)
            for item in self.inputs:
                copy = replace(item, node=chunk_split.part_node(item.node, part.index))
                frame_batch.expand(prompt, copy, [staged[item.node][k] for k in where], has_class)

    def parts(self, frames: Sequence[int], attempts: Sequence[Any]) -> Optional[ChunkPlan]:
        """The parts a chunk is sent as, after out-of-memory attempts (None: one batch)."""
        if not self.split_on_oom:
            return None
        return chunk_split.parts(frames, self.chunks.overlap, self.chunks.seam, chunk_split.split_level(attempts))


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
    return FrameBatchPlan(chunks, inputs, patterns, seams, video, bool(getattr(request, "split_on_oom", False)))


def server_classes(pool: Any, name: str) -> HasClass:
    """What one server has, for choosing the batching node. A server whose node list is unknown
    (it never answered /object_info) gets the join every ComfyUI release has: ImageBatch."""
    known = getattr(pool, "known_classes", None)
    classes = known(name) if known is not None else None
    if classes is None:
        return lambda class_type: class_type == frame_batch.IMAGE_BATCH
    return lambda class_type: class_type in classes
