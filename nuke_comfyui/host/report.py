"""Human-readable progress for the node's status line and the Script Editor, from a snapshot or view.

Pure text functions (no nuke), so the GUI status knob, headless progress lines and failure
reports all say the same thing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, List, Tuple

from nuke_comfyui.core.mixed_formats import mixed_formats
from nuke_comfyui.core.variation_names import variation_name

if TYPE_CHECKING:
    from nuke_comfyui.core.scheduler import GroupReport

FINISHED = ("completed", "partial", "failed", "cancelled")
FAILED_JOB_STATES = ("failed", "timeout")
#: how an artist goes on after a halted journal, in Nuke (render.retry_node lifts the halt)
HALT_FIX_ON_NODE = "then press 'Retry failed' on this node to send the rest"


def _value(state: object) -> str:
    return str(getattr(state, "value", state))


def is_finished(snapshot: GroupReport) -> bool:
    return _value(snapshot.state) in FINISHED


def halt_notice(snapshot: GroupReport) -> str:
    """The journal cannot be written, so none of the group's remaining work is sent ('' if not)."""
    return str(getattr(snapshot, "halted", None) or "")


def status_line(snapshot: GroupReport) -> str:
    """'running: 7/12 done, 1 failed, eta 20s' (one line, for the status knob and headless output);
    'halted: 7/12 done (journal not writable)' while a halted journal holds the rest back."""
    if halt_notice(snapshot):
        return f"halted: {snapshot.done}/{snapshot.total} done (journal not writable)"
    text = f"{_value(snapshot.state)}: {snapshot.done}/{snapshot.total} done"
    if snapshot.failed:
        text += f", {snapshot.failed} failed"
    if snapshot.eta_s is not None and not is_finished(snapshot):
        text += f", eta {round(snapshot.eta_s)}s"
    return text


def halt_text(snapshot: GroupReport) -> str:
    """The halt as the node says it: what failed, where to free space, and Retry ('' if not halted)."""
    notice = halt_notice(snapshot)
    return f"{notice}, {HALT_FIX_ON_NODE}" if notice else ""


def failures(snapshot: GroupReport) -> List[Tuple[str, str]]:
    """(job id, 'frame 1003 var01 on srv2: reason') for every failed or timed-out job."""
    found = []
    for job in snapshot.failed_jobs:
        if _value(job.state) not in FAILED_JOB_STATES:
            continue
        where = f"frame {job.frame}" if job.frame is not None else "job"
        server = f" on {job.server}" if job.server else ""
        found.append((job.job_id, f"{where} {variation_name(job.variation)}{server}: {job.error or _value(job.state)}"))
    return found


def status_text(snapshot: GroupReport, limit: int = 10) -> str:
    """Status line plus the failed frames (at most limit, then a count), for the node's status knob."""
    lines = [status_line(snapshot)]
    if halt_notice(snapshot):
        lines.append(halt_text(snapshot))
    lines += mixed_formats(snapshot.sequences)
    failed = failures(snapshot)
    lines += [f"failed {text}" for _, text in failed[:limit]]
    if len(failed) > limit:
        lines.append(f"... and {len(failed) - limit} more (see the Script Editor)")
    return "\n".join(lines)


LABEL_CHARS = 44
_TCL_SPECIAL = re.compile(r"[\[\]$\\{}\"]")


def short_status(text: str, limit: int = LABEL_CHARS) -> str:
    """The node's label in the Node Graph: the status's first line (state and counts), cut short.

    The gizmo's label shows it through `[value status_label]`, and Nuke TCL-evaluates label text, so
    TCL's special characters (brackets, $, backslashes, braces, quotes) are dropped here.
    """
    first = _TCL_SPECIAL.sub("", (text.strip().splitlines() or [""])[0]).strip()
    return first if len(first) <= limit else first[:limit - 3].rstrip() + "..."
