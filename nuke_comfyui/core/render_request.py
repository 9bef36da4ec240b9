"""`RenderRequest`: the plain description of a render that host, CLI and panels build.

No Nuke or Qt objects: just the workflow file, the frames, the variations and where results go.
`expand()` turns it into one small JobSpec per (frame or chunk) x variation. Every frame of one
variation shares that variation's seed, so a variation renders as one consistent sequence.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict, List, Optional, Tuple

from nuke_comfyui.core import chunk_plan
from nuke_comfyui.core.chunk_plan import CHUNK_SEEDS, ChunkPlan, ChunkPlanError
from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.frames import FrameSet
from nuke_comfyui.core.seeds import MAX_SEED, MAX_VARIATIONS, SEED_STRATEGIES, base_seed_for_group, seed_for
from nuke_comfyui.core.sequence_pattern import SequencePattern
from nuke_comfyui.core.variation_names import variation_name

SERVER_STRATEGIES = ("fastest", "least-loaded", "round-robin", "priority")
#: the most jobs (frame chunks x variations) one request makes: planning, the journal and a
#: cancel of the whole group stay within about two seconds at this size (docs/BAD_INPUT.md)
MAX_JOBS = 10_000


class RequestError(NukeComfyError):
    """A render request that cannot run as written (message names the field and the fix)."""


@dataclass(frozen=True)
class JobSpec:
    """One job of a group before it exists: cheap enough for 10,000 of them."""

    __slots__ = ("depends_on", "frame", "frames", "index", "input_path", "seed", "variation")

    index: int
    frame: Optional[int]
    frames: Tuple[int, ...]
    variation: int  # 0-based
    seed: int
    input_path: Optional[str]
    depends_on: Tuple[int, ...]


@dataclass
class RenderRequest:
    """What to render: built by the CLI, the Nuke node and the panels; journaled as JSON.

    Variations are 0-based in JobSpec (shown as var01, var02, ... by every caller). Every frame of
    one variation gets the same seed: seed_for(seed_strategy, base_seed, variation). With one
    variation and no base seed (None), the workflow keeps its own seed; several variations and
    no base seed get one drawn for their group (`with_group_seed`, core/seeds.py).

    Workflow inputs: `values` {"<node id>.<input>": value} set for every job; `frame_values`
    {"<node id>.<input>": {"<frame>": value}} set per frame (a job takes its first frame's value,
    and the static value, else the workflow's, for frames not listed). `images` {"<loader node
    id>": file or sequence pattern} feeds each further image-loading node. `pixels` is the plate's
    encoding and file type and the result file type decided for the farm (core/pixels), with the
    notes on what was lost where. All are journaled with the request, so a retry or a resume sends
    exactly the same values and pixels.
    """

    workflow_path: str
    output_dir: str
    input_pattern: Optional[str] = None
    frames: Optional[str] = None
    variations: int = 1
    seed_strategy: str = "random"
    base_seed: Optional[int] = None
    strategy: Optional[str] = None
    servers: Optional[List[str]] = None
    transfer: Optional[str] = None
    timeout: Optional[float] = None
    job_type: Optional[str] = None
    chunk_size: int = 1
    label: str = ""
    values: Optional[Dict[str, Any]] = None
    frame_values: Optional[Dict[str, Dict[str, Any]]] = None
    images: Optional[Dict[str, str]] = None
    overlap: int = 0  # frames shared by neighbouring chunks (frame batches, core/chunk_plan.py)
    seam: str = "crossfade"  # how shared frames are made: "crossfade" or "cut" (the later chunk's)
    chunk_seeds: str = "same"  # "same": every chunk of a variation its seed; "per-chunk": one per chunk
    split_on_oom: bool = False  # a chunk out of memory on the biggest server: retried as smaller parts
    #: {"<node id>.<input>": text} of the workflow's dynamic-prompt texts (`{a|b}`), set when the
    #: request is planned: each job's choices follow from its seed (core/ui_convert/dynamic_prompts.py)
    dynamic_prompts: Optional[Dict[str, str]] = None
    pixels: Optional[Dict[str, Any]] = None  # core/pixels PixelRequest: plate encoding, files, notes

    def validate(self) -> None:
        """Raise RequestError (or FrameSetError / PatternError) for anything that cannot run as written."""
        self._check_types()
        if not self.workflow_path:
            raise RequestError("no workflow file given; pick a ComfyUI API-format JSON file")
        if not self.output_dir:
            raise RequestError("no output folder given; choose where the results go")
        if self.input_pattern and not self.frames:
            raise RequestError("an input sequence needs a frame set (e.g. 1001-1100)")
        if self.input_pattern:
            SequencePattern.parse(self.input_pattern)
        if self.frames:
            FrameSet.parse(self.frames)
        if not 1 <= self.variations <= MAX_VARIATIONS:
            raise RequestError(f"variations must be between 1 and {MAX_VARIATIONS}, not {self.variations}")
        if self.seed_strategy not in SEED_STRATEGIES:
            known = ", ".join(SEED_STRATEGIES)
            raise RequestError(f"seed strategy {self.seed_strategy!r} is unknown; use one of {known}")
        if self.base_seed is not None and not 0 <= self.base_seed <= MAX_SEED:
            raise RequestError(f"base seed {self.base_seed} must be between 0 and {MAX_SEED}")
        if self.strategy is not None and self.strategy not in SERVER_STRATEGIES:
            known = ", ".join(SERVER_STRATEGIES)
            raise RequestError(f"server strategy {self.strategy!r} is unknown; use one of {known}")
        if self.transfer is not None and self.transfer not in ("shared", "upload"):
            raise RequestError(f"transfer {self.transfer!r} must be 'shared' or 'upload' (or unset)")
        if self.chunk_size < 1:
            raise RequestError(f"chunk size must be at least 1, not {self.chunk_size}")
        self._check_frame_batches()
        if self.timeout is not None and not (math.isfinite(self.timeout) and self.timeout > 0):
            # nan would disable every timeout and inf would wait for ever: neither is a number of seconds
            raise RequestError(f"timeout must be a positive number of seconds, not {self.timeout}")
        if self.pixels is not None:
            from nuke_comfyui.core.pixels import PixelRequest

            PixelRequest.from_dict(self.pixels)
        self._check_job_count()

    def _check_frame_batches(self) -> None:
        """Chunks of several frames send a batch to the workflow's input: they need frames and an input."""
        if self.chunk_seeds not in CHUNK_SEEDS:
            raise RequestError(f"chunk seeds {self.chunk_seeds!r} is unknown; use {' or '.join(CHUNK_SEEDS)}")
        try:
            chunk_plan.check(0, self.chunk_size, self.overlap, self.seam)
        except ChunkPlanError as exc:
            raise RequestError(str(exc)) from None
        if not self.frame_batches():
            return
        if not self.frames:
            raise RequestError(f"a chunk size of {self.chunk_size} needs a frame set (e.g. 1001-1100) "
                               "to cut into chunks")
        if not self.input_pattern:
            raise RequestError(f"a chunk size of {self.chunk_size} sends each chunk's frames as one batch to the "
                               "workflow's input, and no input sequence was given; give --input (the node's input), "
                               "or render with a chunk size of 1")
        try:
            self.chunk_plan()
        except ChunkPlanError as exc:
            raise RequestError(str(exc)) from None

    def frame_batches(self) -> bool:
        """True when each job renders a batch of frames (chunk size above 1, or an overlap asked for)."""
        return self.chunk_size > 1 or bool(self.overlap)

    def chunk_plan(self) -> Optional[ChunkPlan]:
        """The chunks of this render's frames (None for per-frame renders and stills)."""
        if not self.frames or not self.frame_batches():
            return None
        return chunk_plan.plan_for(FrameSet.parse(self.frames).frames, self.chunk_size, self.overlap, self.seam)

    def _frame_chunks(self) -> List[Tuple[int, ...]]:
        if not self.frames:
            return [()]
        plan = self.chunk_plan()
        return [c.frames for c in plan.chunks] if plan is not None else [(f,) for f in FrameSet.parse(self.frames)]

    def _check_job_count(self) -> None:
        chunks = len(self._frame_chunks())
        jobs = chunks * self.variations
        if jobs > MAX_JOBS:
            variations = f"{self.variations:,} variation{'s' if self.variations != 1 else ''}"
            shape = f"{chunks:,} frame chunks x {variations}" if self.frames else variations
            # a larger chunk only helps a workflow that takes a batch of input frames (docs/TEMPORAL.md)
            chunks_help = " or use a larger chunk size" if self.input_pattern and self.frames else ""
            raise RequestError(f"this render would make {jobs:,} jobs ({shape}); one render makes at most "
                               f"{MAX_JOBS:,}; split it into several renders{chunks_help}")

    def _check_types(self) -> None:
        """Requests come from JSON and knobs too: a string where a number belongs is named, not a TypeError."""
        for name, kinds in (("variations", (int,)), ("base_seed", (int, type(None))), ("chunk_size", (int,)),
                            ("overlap", (int,)),
                            ("timeout", (int, float, type(None)))):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise RequestError(f"{name} must be a number, not {value!r}")
        for name in ("workflow_path", "output_dir", "seed_strategy", "label", "seam", "chunk_seeds"):
            if not isinstance(getattr(self, name), str):
                raise RequestError(f"{name} must be text, not {getattr(self, name)!r}")
        if not isinstance(self.split_on_oom, bool):
            raise RequestError(f"split_on_oom must be true or false, not {self.split_on_oom!r}")
        if self.servers is not None and not all(isinstance(n, str) for n in self.servers):
            raise RequestError(f"servers must be a list of server names, not {self.servers!r}")
        self._check_inputs()

    def _check_inputs(self) -> None:
        """Workflow input values and image inputs: keyed "<node>.<input>" / by node id, frames as text."""
        if self.values is not None and not (isinstance(self.values, dict) and all(
                isinstance(k, str) and "." in k for k in self.values)):
            raise RequestError(f"values must map \"<node>.<input>\" to a value, not {self.values!r}")
        for key, per_frame in (self.frame_values or {}).items():
            if not isinstance(per_frame, dict) or not all(str(f).lstrip("-").isdigit() for f in per_frame):
                raise RequestError(f"frame_values[{key!r}] must map frame numbers to values")
        for node, pattern in (self.images or {}).items():
            if not isinstance(pattern, str) or not pattern:
                raise RequestError(f"image input {node!r} needs a file or sequence pattern, not {pattern!r}")
            if self.input_pattern is None and not self.frames and ("#" in pattern or "%" in pattern):
                raise RequestError(f"image input {node!r} is a sequence ({pattern}); give a frame set too")

    def keeps_workflow_seed(self) -> bool:
        """One variation and no base seed: render the workflow's own seed."""
        return self.variations == 1 and self.base_seed is None

    def draws_base_seed(self) -> bool:
        """Several variations and no base seed: the group draws one (fresh per render)."""
        return self.variations > 1 and self.base_seed is None

    def with_group_seed(self, group_id: str) -> RenderRequest:
        """This request as group `group_id` renders it: with the base seed drawn for the group when
        it draws one (journaled with the group, so resume and retry keep the seeds), else itself."""
        if not self.draws_base_seed():
            return self
        return replace(self, base_seed=base_seed_for_group(group_id))

    def values_for(self, frame: Optional[int]) -> Dict[str, Any]:
        """The input values of a job at `frame`: static values, overridden by that frame's values."""
        merged = dict(self.values or {})
        if frame is not None:
            for key, per_frame in (self.frame_values or {}).items():
                if str(frame) in per_frame:
                    merged[key] = per_frame[str(frame)]
        return merged

    def expand(self) -> List[JobSpec]:
        """One JobSpec per (frame chunk) x variation, frames in order within each variation."""
        self.validate()
        pattern = SequencePattern.parse(self.input_pattern) if self.input_pattern else None
        frame_chunks = self._frame_chunks()
        specs: List[JobSpec] = []
        for variation in range(self.variations):
            seed = seed_for(self.seed_strategy, self.base_seed or 0, variation)
            for number, chunk in enumerate(frame_chunks):
                frame = chunk[0] if chunk else None
                specs.append(JobSpec(
                    index=len(specs), frame=frame, frames=chunk, variation=variation,
                    seed=self.seed_of_chunk(seed, number),
                    input_path=pattern.path_for(frame) if pattern is not None and frame is not None else None,
                    depends_on=(),
                ))
        return specs

    def seed_of_chunk(self, seed: int, chunk_index: int) -> int:
        """A chunk's seed from its variation's: the same for every chunk unless "per-chunk" is asked."""
        return chunk_plan.chunk_seed(seed, chunk_index) if self.chunk_seeds == "per-chunk" else seed

    def to_json(self) -> str:
        """Stable JSON (sorted keys): journaled with the group so resume rebuilds the same jobs."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RenderRequest:
        """The request `to_json` wrote; unknown fields are refused rather than silently dropped."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RequestError(f"stored render request is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise RequestError("stored render request is not a JSON object; it cannot be resumed")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RequestError(f"stored render request has unknown fields {unknown}; "
                               "was it written by a newer version of nuke-comfyui?")
        return cls(**data)

    @staticmethod
    def describe(spec: Any) -> str:
        """Short human name of a job: "frame 1001 var01" or "var03"."""
        variation = variation_name(spec.variation)
        return f"frame {spec.frame} {variation}" if spec.frame is not None else variation
