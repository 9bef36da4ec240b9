"""A group plan: everything the scheduler needs to run one request, decided once at submit time.

The plan holds the workflow template once per group (as JSON text, parsed afresh per job at
dispatch), the job specs (frame, variation, seed, input file, dependencies), the placement
shared by every child (class types, job type, duration key, strategy), the timeout and the
output layout. Building each job's prompt lazily keeps a 10,000-job group at a few MB.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.core.scheduler.results import OutputLayout


@dataclass(frozen=True)
class JobSpec:
    """One child of a group, as planned (the seed is fixed here, never by the server that runs it)."""

    index: int
    frame: Optional[int]
    variation: int
    seed: int
    input_path: Optional[str] = None
    depends_on: Tuple[int, ...] = ()  # indices of jobs of the same group
    frames: Tuple[int, ...] = ()  # a chunk's frames: image k of an output belongs to frames[k]


PromptBuilder = Callable[["GroupPlan", Any, Optional[str]], Dict[str, Any]]


@dataclass
class GroupPlan:
    """How to run one group. `build_prompt(plan, job, image_value)` returns the API prompt."""

    label: str
    output_dir: str
    specs: Sequence[JobSpec]
    template_json: str
    build_prompt: PromptBuilder
    placement: Dict[str, Any] = field(default_factory=dict)
    output_nodes: Sequence[str] = ()
    timeout: Optional[float] = None
    transfer: Optional[str] = None  # per-request override of the servers' transfer modes
    servers: Optional[List[str]] = None  # restrict to these server names
    request_json: str = "{}"
    layout: Optional[OutputLayout] = None
    #: further image inputs of a job: {loader node id: local file}, staged and patched per attempt
    image_paths: Optional[Callable[[Any], Dict[str, str]]] = None
    #: frame batches (chunks of several frames): a batch_plan.FrameBatchPlan, else None
    batch: Optional[Any] = None
    #: the decided pixels (core/pixels PixelRequest): each prompt is fitted to its server at dispatch
    pixels: Optional[Any] = None
    #: the workflow has a seed input: a seedless one (an invert, a depth pass) is never said to have
    #: "seed 0" in summaries and Read labels
    seeded: bool = True

    def template(self) -> Dict[str, Any]:
        """A fresh, private copy of the workflow (json.loads is faster than deepcopy)."""
        result: Dict[str, Any] = json.loads(self.template_json)
        return result


def duration_key(template_json: str, frames_per_job: int = 1) -> str:
    """Key for learned per-server durations: the workflow's shape, whatever its seeds/inputs, and
    the frames one job renders. A chunk of 16 frames costs about 16 frames' time, so a render in
    chunks must not be placed with what the same workflow took frame by frame (or the reverse)."""
    key = hashlib.sha1(template_json.encode("utf-8")).hexdigest()[:16]
    return f"{key}/{frames_per_job}f" if frames_per_job > 1 else key


def filename_prefix(group_id: str, index: int, attempt: int) -> str:
    """Unique per job and attempt, so ComfyUI's cache never hands back another job's file and
    file names from different servers or groups never collide."""
    return f"nkc_{group_id[:12]}_{index:05d}_a{attempt}"
