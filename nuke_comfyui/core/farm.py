"""One process's farm: the server pool, the scheduler and the journal, started and stopped together.

The CLI, the Nuke session and the standalone monitor all need the same three objects wired the
same way; this is the one place that does it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from nuke_comfyui.core.comfy.preview_method import Policy
from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.scheduler import Scheduler


def _planner(pool: Any, blender: Any = None) -> Any:
    """Plans that convert UI-format workflows with the pool's cached `/object_info`, and blend
    frame-batch seams with `blender` (nuke_comfyui.blend.PixelBlender; None: seam "cut" only)."""
    from nuke_comfyui.core.scheduler.request_plan import plan_factory

    return plan_factory(lambda: pool.object_info() if hasattr(pool, "object_info") else {}, blender)


class Farm:
    """Pool + scheduler + journal for one process. Use as a context manager or start()/stop()."""

    def __init__(self, pool: Any, journal: Journal, scheduler: Optional[Scheduler] = None, *,
                 previews: Policy = True) -> None:
        """`previews` (see from_config) shapes the scheduler made here; a given scheduler has its own."""
        self.pool = pool
        self.journal = journal
        self.scheduler = scheduler or Scheduler(pool, journal, plan_factory=_planner(pool), previews=previews)
        self._started = False

    @classmethod
    def from_config(
        cls,
        loaded: Any,
        *,
        journal_path: Union[str, Path, None] = None,
        job_timeout: Optional[float] = None,
        blender: Any = None,
        previews: Policy = True,
    ) -> Farm:
        """Build a farm from `load_config()`'s result (or a bare ClusterConfig); `blender` makes the
        seams of frame batches (the CLI and the Nuke plugin pass nuke_comfyui.blend.PixelBlender).

        `previews` is who builds the farm saying when it can show a live preview: False (the CLI,
        `nuke -t`, farm tasks) asks each server to make none for our prompts, sparing its GPU and our
        stream threads; WHEN_WATCHED (a Nuke GUI) asks so only for prompts sent while no Results
        panel shows previews; True (the monitor) keeps the server's own setting (comfy/preview_method.py)."""
        from nuke_comfyui.core.pool import ServerPool

        cluster = getattr(loaded, "cluster", loaded)
        pool = ServerPool(cluster)
        journal = Journal(journal_path)
        return cls(pool, journal, Scheduler(pool, journal, job_timeout=job_timeout,
                                            plan_factory=_planner(pool, blender), previews=previews))

    def start(self) -> Farm:
        if not self._started:
            self._started = True
            self.pool.start()
            self.scheduler.start()
        return self

    def stop(self) -> None:
        """Stop dispatching (prompts already on servers keep running; `resume` re-attaches)."""
        if self._started:
            self._started = False
            self.scheduler.stop()
            self.pool.stop()
        self.journal.close()

    def __enter__(self) -> Farm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
