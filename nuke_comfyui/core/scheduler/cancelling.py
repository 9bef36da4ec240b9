"""Taking a group's prompts off the servers, and an honest account of what that did.

`cancel` must say what it actually did: how many prompts it deleted from a queue, how many
running ones it interrupted, how many had already finished, which servers it could not reach,
and (for a group another process renders) whether that owner confirmed it stopped. The CLI
turns a report that is not `ok` into a non-zero exit code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.scheduler import safe_removal

log = logging.getLogger(__name__)


@dataclass
class CancelReport:
    group_id: str
    jobs_cancelled: int = 0
    deleted: int = 0  # prompts removed from a server's queue before they ran
    interrupted: int = 0  # running prompts interrupted (by prompt id)
    finished: int = 0  # prompts no longer on their server (already done)
    already_final: bool = False  # nothing left to cancel: every child had finished
    unreachable: Dict[str, str] = field(default_factory=dict)  # server -> why it could not be told
    owner: Optional[str] = None  # "pid N on HOST" when another process renders the group
    confirmed: bool = True  # False when that owner did not confirm within the wait
    left_running: List[str] = field(default_factory=list)  # could not be stopped safely (safe_removal.py)

    @property
    def ok(self) -> bool:
        return not self.unreachable and self.confirmed

    def add(self, other: CancelReport) -> None:
        self.deleted += other.deleted
        self.interrupted += other.interrupted
        self.finished += other.finished
        self.unreachable.update(other.unreachable)
        self.left_running.extend(other.left_running)

    def lines(self) -> List[str]:
        """What to print, one fact per line."""
        short = self.group_id[:8]
        if self.already_final:
            return [f"group {short} had already finished; nothing to cancel"]
        out = [f"cancelled group {short}: {self.jobs_cancelled} job(s) cancelled, {self.deleted} queued "
               f"prompt(s) deleted, {self.interrupted} running prompt(s) interrupted, {self.finished} "
               "already finished"]
        if self.owner:
            verb = "confirmed it stopped" if self.confirmed else "did NOT confirm it stopped"
            out.append(f"the group is rendered by {self.owner}, which {verb}")
        out.extend(f"left to finish: {why}" for why in self.left_running)
        for server, why in sorted(self.unreachable.items()):
            out.append(f"could not tell {server}: {why}; its prompts may still run there")
        return out

    def to_json(self) -> Dict[str, Any]:
        return {
            "group_id": self.group_id, "state": "cancelled" if self.ok else "cancel_incomplete",
            "jobs_cancelled": self.jobs_cancelled, "deleted": self.deleted, "interrupted": self.interrupted,
            "finished": self.finished, "already_final": self.already_final,
            "unreachable": dict(self.unreachable), "owner": self.owner, "confirmed": self.confirmed,
            "left_running": list(self.left_running),
        }


def cancel_prompts(client: Any, server: str, prompt_ids: Sequence[str], group_id: str = "") -> CancelReport:
    """Delete our queued prompts and interrupt our running one on one server; report which was which.

    Each prompt's state is read first (to report honestly), then every id is deleted and then
    interrupted by id, so a prompt that starts in between is still caught. Never a bare /interrupt.
    """
    report = CancelReport(group_id)
    if not prompt_ids:
        return report
    states: Dict[str, str] = {}
    try:
        for pid in prompt_ids:
            state = client.prompt_state(pid)
            states[pid] = str(getattr(state, "value", state))
        caps = getattr(client, "capabilities", None)
        own_ids = caps is None or caps.client_prompt_id  # else "unknown" may be an id the server replaced
        live = [pid for pid in prompt_ids if states[pid] in ("pending", "running")
                or (states[pid] == "unknown" and not own_ids)]
        removal = safe_removal.remove(client, live)
        if removal.error is not None:
            raise NukeComfyError(removal.error)
        report.left_running.extend(removal.left_running)
    except NukeComfyError as exc:
        report.unreachable[server] = str(exc)
        log.warning("could not cancel prompts on %s: %s", server, exc)
        return report
    for pid in prompt_ids:
        state = removal.states.get(pid, states.get(pid)) if pid not in removal.interrupted else "running"
        if states.get(pid) == "pending" or (state == "pending"):
            report.deleted += 1
        elif state == "running":
            report.interrupted += 1
        else:
            report.finished += 1
    return report
