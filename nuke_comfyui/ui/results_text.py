"""The Job Results panel's words: a group's summary line, what Keep takes, a halted journal said once.

Kept apart from the widget (results_panel.py) so they read, and test, as plain text: no Qt here.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.ui.palette import state_value

#: how the panel's artist goes on after a halted journal (its Retry Failed lifts it: Scheduler.retry_failed)
HALT_FIX = "then press Retry Failed to send the rest"


def group_summary(group: Any) -> str:
    """'plate_v3 · running · 12/40 done, 2 failed · ETA 1m05s' from a GroupSnapshot or GroupProgress."""
    halted = getattr(group, "halted", None)
    state = "halted (journal not writable)" if halted else state_value(group.state)
    parts = [group.label or group.group_id[:8], state, f"{group.done}/{group.total} done"]
    if group.failed:
        parts[-1] += f", {group.failed} failed"
    eta = getattr(group, "eta_s", None)
    if eta is not None and not halted and state_value(group.state) in ("queued", "running"):
        minutes, seconds = divmod(int(eta), 60)
        parts.append(f"ETA {minutes}m{seconds:02d}s" if minutes else f"ETA {seconds}s")
    return " · ".join(parts)


def sequences_for_variations(sequences: Sequence[Any], variations: Optional[set]) -> List[Any]:
    """The output sequences to keep: all, or those of the selected variations."""
    if variations is None:
        return list(sequences)
    return [seq for seq in sequences if seq.variation in variations]


class HaltNotices:
    """Which halted-journal line each group has had (core/scheduler/journal_halt.py): said once per
    halt, taken back once the journal is written again."""

    def __init__(self) -> None:
        self._said: Dict[str, str] = {}

    def change(self, group: Any) -> Optional[Tuple[str, str]]:
        """(the line said before, the line to show now: '' takes it back), or None when nothing changes."""
        halted = getattr(group, "halted", None)
        said = self._said.get(group.group_id)
        if halted:
            text = f"{halted}, {HALT_FIX}"
            if said == text:
                return None
            self._said[group.group_id] = text
            return said or "", text
        if said is None:
            return None
        del self._said[group.group_id]
        return said, ""
