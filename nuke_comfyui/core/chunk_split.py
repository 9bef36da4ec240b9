"""A chunk that ran out of GPU memory, retried as smaller batches inside one prompt.

When the artist allows it (`--split-on-oom`, the node's "split chunks that run out of memory"),
a chunk whose prompt failed with out-of-memory on the biggest server there is is not failed: its
next attempt sends the same chunk as 2 (then 4, ...) parts. The part of the workflow that depends
on the batch input is repeated once per part inside the one prompt (`<node>_nkc_part<p>`), each
copy fed its part of the chunk's frames; nodes that do not depend on the frames (model loaders,
text encoders) stay shared. ComfyUI runs the copies one after the other, so a temporal node holds
one part's frames at a time: peak memory falls with the part size.

Parts overlap like chunks do (the render's overlap, at most part size - 1), and a chunk's frame
rendered by two parts is their blend by the same weights as a seam (core/chunk_plan.py). The chunk
stays one job with one seed: journal, retries, resume and the farm see nothing new. The split
level is the number of out-of-memory attempts the job has had (journaled with its attempts), so
a resumed job keeps its smaller parts.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from nuke_comfyui.core.chunk_plan import ChunkPlan

PART = "_nkc_part"
OUT_OF_MEMORY = "out_of_memory"  # the outcome recovery gives an out-of-memory attempt (failures.py)


def split_level(attempts: Iterable[Any]) -> int:
    """How many times the job's chunk ran out of memory: its next prompt uses 2**level parts."""
    return len([attempt for attempt in attempts or () if getattr(attempt, "outcome", "") == OUT_OF_MEMORY])


def parts(frames: Sequence[int], overlap: int, seam: str, level: int) -> Optional[ChunkPlan]:
    """The parts of a chunk at split `level` (None at level 0, or when the chunk cannot be cut that
    small: each part must bring a frame the previous lacks)."""
    if level <= 0:
        return None
    count = 2 ** level
    size = len(frames)
    part_size = -(-max(1, size - overlap) // count) + overlap  # ceil((size - k) / count) + k
    part_overlap = min(overlap, part_size - 1)
    if part_size >= size or part_size < 1:
        return None
    return ChunkPlan(frames, part_size, part_overlap, seam)


def can_split(frames: Sequence[int], overlap: int, level: int) -> bool:
    return parts(frames, overlap, "cut", level) is not None


def part_node(node_id: str, part: int) -> str:
    """The id of part `part`'s copy of a node (part 0 is the workflow's own node)."""
    return node_id if part == 0 else f"{node_id}{PART}{part}"


def node_part(node_id: str) -> Tuple[str, int]:
    """(the workflow's node id, part) of a node id a split prompt reported outputs for."""
    head, sep, tail = node_id.rpartition(PART)
    if sep and tail.isdigit():
        return head, int(tail)
    return node_id, 0


def duplicate(prompt: Dict[str, Any], sources: Sequence[str], count: int) -> Set[str]:
    """Add copies 1..count-1 of every node that depends on `sources` (the batch inputs); returns
    the ids of the nodes copied (part 0's). Links inside the copied part point at the copies."""
    dependents = _depending_on(prompt, set(sources))
    for part in range(1, count):
        for node_id in sorted(dependents):
            node = prompt[node_id]
            inputs = {name: ([part_node(value[0], part), value[1]] if _is_link(value) and value[0] in dependents
                             else value)
                      for name, value in node.get("inputs", {}).items()}
            copy: Dict[str, Any] = {"class_type": node["class_type"], "inputs": inputs}
            if "_meta" in node:
                copy["_meta"] = dict(node["_meta"])
            prompt[part_node(node_id, part)] = copy
    return dependents


def _depending_on(prompt: Dict[str, Any], sources: Set[str]) -> Set[str]:
    found = set(sources)
    changed = True
    while changed:
        changed = False
        for node_id, node in prompt.items():
            if node_id in found:
                continue
            if any(_is_link(value) and value[0] in found for value in node.get("inputs", {}).values()):
                found.add(node_id)
                changed = True
    return found


def _is_link(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], int) and not isinstance(value[1], bool))


def positions(chunk_frames: Sequence[int], part_frames: Sequence[int]) -> List[int]:
    """Where a part's frames sit in its chunk (index into the chunk's frames)."""
    index = {frame: k for k, frame in enumerate(chunk_frames)}
    return [index[frame] for frame in part_frames]
