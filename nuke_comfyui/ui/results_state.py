"""What the Job Results panel knows about one group: its counters and latest child snapshots.

Counts per job state are kept as children are replaced, so the panel's buttons (Retry Failed,
Cancel, Keep All) are decided in O(1) per job event, whatever the size of the group.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from nuke_comfyui.ui.palette import state_value

_FINISHED = frozenset({"completed", "failed", "timeout", "cancelled"})


class GroupState:
    """What the panel knows about one group: its latest counters and children by job id."""

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.summary: Optional[Any] = None
        self.jobs: Dict[str, Any] = {}
        self.counts: Dict[str, int] = {}  # children per state, kept as they are replaced (O(1) buttons)
        self.loaded = False

    def put(self, job: Any, replace: bool = True) -> None:
        """Store a child's newest snapshot (with replace=False only if it is not known yet)."""
        old = self.jobs.get(job.job_id)
        if old is not None:
            if not replace:
                return
            self.counts[state_value(old.state)] -= 1
        self.jobs[job.job_id] = job
        state = state_value(job.state)
        self.counts[state] = self.counts.get(state, 0) + 1

    def has(self, *states: str) -> bool:
        return any(self.counts.get(state, 0) > 0 for state in states)

    def unfinished(self) -> bool:
        return self.unfinished_count() > 0

    def unfinished_count(self) -> int:
        """Children still queued, blocked, dispatched or running: what Cancel would stop."""
        return sum(count for state, count in self.counts.items() if state not in _FINISHED)
