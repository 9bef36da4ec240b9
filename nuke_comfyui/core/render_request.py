"""`RenderRequest`: the plain description of a render that host, CLI and panels build.

No Nuke or Qt objects: just the workflow file, the frames, the variations and where results go.
`expand()` turns it into one small JobSpec per (frame or chunk) x variation. Every frame of one
variation shares that variation's seed, so a variation renders as one consistent sequence.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any, List, Optional, Tuple

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.frames import FrameSet
from nuke_comfyui.core.seeds import MAX_SEED, SEED_STRATEGIES, seed_for
from nuke_comfyui.core.sequence_pattern import SequencePattern

SERVER_STRATEGIES = ("fastest", "least-loaded", "round-robin", "priority")


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
    workflow_path: str
    output_dir: str
    input_pattern: Optional[str] = None
    frames: Optional[str] = None
    variations: int = 1
    seed_strategy: str = "random"
    base_seed: int = 0
    strategy: Optional[str] = None
    servers: Optional[List[str]] = None
    transfer: Optional[str] = None
    timeout: Optional[float] = None
    job_type: Optional[str] = None
    chunk_size: int = 1
    label: str = ""

    def validate(self) -> None:
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
        if self.variations < 1:
            raise RequestError(f"variations must be at least 1, not {self.variations}")
        if self.seed_strategy not in SEED_STRATEGIES:
            known = ", ".join(SEED_STRATEGIES)
            raise RequestError(f"seed strategy {self.seed_strategy!r} is unknown; use one of {known}")
        if not 0 <= self.base_seed <= MAX_SEED:
            raise RequestError(f"base seed {self.base_seed} must be between 0 and {MAX_SEED}")
        if self.strategy is not None and self.strategy not in SERVER_STRATEGIES:
            known = ", ".join(SERVER_STRATEGIES)
            raise RequestError(f"server strategy {self.strategy!r} is unknown; use one of {known}")
        if self.transfer is not None and self.transfer not in ("shared", "upload"):
            raise RequestError(f"transfer {self.transfer!r} must be 'shared' or 'upload' (or unset)")
        if self.chunk_size < 1:
            raise RequestError(f"chunk size must be at least 1, not {self.chunk_size}")
        if self.timeout is not None and self.timeout <= 0:
            raise RequestError(f"timeout must be a positive number of seconds, not {self.timeout}")

    def expand(self) -> List[JobSpec]:
        """One JobSpec per (frame chunk) x variation, frames in order within each variation."""
        self.validate()
        pattern = SequencePattern.parse(self.input_pattern) if self.input_pattern else None
        frame_chunks: List[Tuple[int, ...]] = (FrameSet.parse(self.frames).chunks(self.chunk_size)
                                               if self.frames else [()])
        specs: List[JobSpec] = []
        for variation in range(self.variations):
            seed = seed_for(self.seed_strategy, self.base_seed, variation)
            for chunk in frame_chunks:
                frame = chunk[0] if chunk else None
                specs.append(JobSpec(
                    index=len(specs), frame=frame, frames=chunk, variation=variation, seed=seed,
                    input_path=pattern.path_for(frame) if pattern is not None and frame is not None else None,
                    depends_on=(),
                ))
        return specs

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RenderRequest:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RequestError(f"stored render request is not JSON: {exc}") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RequestError(f"stored render request has unknown fields {unknown}; "
                               "was it written by a newer version of nuke-comfyui?")
        return cls(**data)

    @staticmethod
    def describe(spec: Any) -> str:
        variation = f"v{spec.variation + 1:02d}"
        return f"frame {spec.frame} {variation}" if spec.frame is not None else variation
