"""What a job needs from a server, and which servers can give it (pure functions over server facts).

Split from the pool so both of its choosers share one definition of "fit": the pool's own
`choose` (one answer from scratch, used by tests and the submit-time capability check) and the
dispatcher's `LoadIndex` (load_index.py), which caches the fit servers per placement and only
recomputes them when a server's fit-relevant facts change (the pool's eligibility epoch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Optional, Tuple

from nuke_comfyui.core.errors import NoCapableServer


@dataclass(frozen=True)
class Placement:
    """What a job needs from a server (built by the scheduler per job and attempt)."""

    class_types: FrozenSet[str] = frozenset()
    job_type: Optional[str] = None
    duration_key: str = ""
    exclude: FrozenSet[str] = frozenset()
    strategy: Optional[str] = None
    min_vram: Optional[int] = None
    #: alternatives: the server needs at least one class of each set (e.g. a frame batch joined by
    #: BatchImagesNode or, on older servers, ImageBatch)
    any_of: Tuple[FrozenSet[str], ...] = ()

    def __post_init__(self) -> None:  # accept plain sets from callers, keep the object hashable
        object.__setattr__(self, "class_types", frozenset(self.class_types))
        object.__setattr__(self, "exclude", frozenset(self.exclude))
        object.__setattr__(self, "any_of", tuple(frozenset(choice) for choice in self.any_of))


@dataclass(frozen=True)
class Eligibility:
    """The servers that fit one placement, as of one eligibility epoch of the pool.

    `fit`: enabled, not excluded, and lacking nothing the job needs (they may still be offline);
    `unfit`: name -> why not; `considered`: enabled servers that were not excluded.
    """

    epoch: int
    fit: FrozenSet[str]
    unfit: Dict[str, str]
    considered: int

    def check(self) -> None:
        """Raise NoCapableServer when every considered server is unfit (none can ever take the job)."""
        if self.considered and not self.fit:
            raise NoCapableServer("no server can run this job: " + "; ".join(
                f"{name} {why}" for name, why in sorted(self.unfit.items())))


def unfit_reason(config: Any, caps: Any, classes: Optional[FrozenSet[str]], vram_total: Optional[int],
                 placement: Placement) -> str:
    """Why this server can never run a job with `placement` as it stands ("" when it can)."""
    if not caps.supported:
        return f"is refused: {caps.refusal}"
    if placement.job_type and config.job_types and placement.job_type not in config.job_types:
        return f"takes only job types {', '.join(config.job_types)} (not {placement.job_type!r})"
    if classes is not None:
        missing = placement.class_types - classes
        if missing:
            return f"lacks {', '.join(sorted(missing))} (install the custom nodes or models there)"
        for choice in placement.any_of:
            if not choice & classes:
                return (f"has none of {' / '.join(sorted(choice))} to join a chunk's frames into one batch "
                        "(update its ComfyUI, or render with a chunk size of 1)")
    if placement.min_vram and (vram_total or 0) < placement.min_vram:
        have, need = _gb(vram_total), _gb(placement.min_vram - 1)
        return f"has {have} of VRAM, the job needs more than {need}"
    return ""


def _gb(value: Optional[int]) -> str:
    return "unknown" if value is None else f"{value / 1024**3:.1f} GB"
