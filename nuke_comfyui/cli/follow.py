"""Waiting for submitted groups to end, in the terminal: progress, Ctrl-C, the summary, the exit code.

Why the wait is a loop and not one blocking call: signals are recorded (cli/interrupts.py), not
raised, so the loop reads them where stopping is safe. One Ctrl-C (or SIGTERM) cancels every
followed group on every server: waiting children are dropped and our prompts deleted or
interrupted by id, and the cancel is in the journal before anything else happens. A second one
stops waiting for the servers' answers — after the journal says `cancelled`, never in the middle
of a write. The exit code is then 130.

Several groups are followed at once (the demo's plate and seed group run side by side), so no
group's progress lines are missed while another one is watched.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any, Dict, List, Optional, Sequence

from nuke_comfyui.cli.interrupts import INTERRUPTS
from nuke_comfyui.cli.progress import ProgressPrinter, _ClearBarFilter, bar_handlers
from nuke_comfyui.cli.summary import combined_exit_code, exit_code, print_summary
from nuke_comfyui.core.errors import NukeComfyError

FINAL = ("completed", "partial", "failed", "cancelled")
#: how often the loop looks at the groups when nothing wakes it (a signal wakes it at once)
LOOK_EVERY_S = 0.25
#: a cancel marks its children in the journal in milliseconds: the bound for a second Ctrl-C's wait
MARK_WAIT_S = 5.0


@dataclass
class Followed:
    """What following ended with: the final snapshots, whether it was interrupted, the exit code."""

    snapshots: List[Any] = field(default_factory=list)
    interrupted: bool = False
    exit_code: int = 1


def follow(scheduler: Any, group_id: str, *, as_json: bool, timeout: Optional[float] = None,
           pool: Any = None, servers: Optional[Sequence[str]] = None, base_seed: Optional[int] = None) -> int:
    """Follow one group to its end; returns the exit code (0, 2, 1, or 130 when interrupted)."""
    seeds = {group_id: base_seed} if base_seed is not None else {}
    return follow_groups(scheduler, [group_id], as_json=as_json, timeout=timeout, pool=pool, servers=servers,
                         base_seeds=seeds).exit_code


def follow_groups(scheduler: Any, group_ids: Sequence[str], *, as_json: bool, timeout: Optional[float] = None,
                  pool: Any = None, servers: Optional[Sequence[str]] = None,
                  base_seeds: Optional[Dict[str, int]] = None, err: Optional[IO[str]] = None) -> Followed:
    """Show progress until every group settles, print the summaries, return what happened.

    `pool` (optional) lets the summary name the servers that were down meanwhile; `servers` are the
    render's `--servers` (only those count); `base_seeds` the seeds drawn per group, to print.
    """
    err = err or sys.stderr
    printer = ProgressPrinter(group_ids, tty=False if as_json else None, labels=len(group_ids) > 1)
    printer.know_labels(_labels(scheduler, group_ids))
    availability = _availability(pool, servers)
    unsubscribe = scheduler.subscribe(printer)
    printer.live = _live_lines(scheduler, group_ids, printer) if not as_json else []
    handlers = bar_handlers(printer) if printer.tty else []
    clear = _ClearBarFilter(printer)
    for handler in handlers:
        handler.addFilter(clear)
    try:
        with INTERRUPTS.deferred() as interrupts:
            _wait_until_settled(scheduler, group_ids, interrupts, timeout)
            interrupted = interrupts.fired()
            if interrupted:
                printer.finish()
                _cancel(scheduler, group_ids, interrupts, err)
            snapshots = [scheduler.wait(group_id, timeout=0) for group_id in group_ids]  # journal flushed
            drain = getattr(scheduler, "drain_events", None)
            if drain is not None:
                drain()  # the last "frame N completed" is printed before we stop listening
    finally:
        for lines in printer.live or []:
            lines.stop()
        unsubscribe()
        for handler in handlers:
            handler.removeFilter(clear)
        problems = availability.problems() if availability is not None else []
        if availability is not None:
            availability.stop()
    printer.finish(_progress_of(snapshot) for snapshot in snapshots)
    printer.catch_up((job for snapshot in snapshots for job in snapshot.jobs),
                     {snapshot.group_id: snapshot.label for snapshot in snapshots})
    for index, snapshot in enumerate(snapshots):
        last = index == len(snapshots) - 1
        print_summary(snapshot, as_json=as_json, servers=problems if last else (),
                      base_seed=(base_seeds or {}).get(snapshot.group_id))
    if interrupted:
        return Followed(snapshots, True, interrupts.exit_code())
    return Followed(snapshots, False, combined_exit_code([exit_code(snapshot) for snapshot in snapshots]))


def _wait_until_settled(scheduler: Any, group_ids: Sequence[str], interrupts: Any,
                        timeout: Optional[float]) -> None:
    """Until every group settled, `timeout` passed, or a signal arrived."""
    deadline = None if timeout is None else time.monotonic() + timeout
    waiting = list(group_ids)
    while waiting and not interrupts.fired():
        waiting = [group_id for group_id in waiting if not _settled(scheduler, group_id)]
        if not waiting or (deadline is not None and time.monotonic() >= deadline):
            return
        interrupts.wait_for_more(0, LOOK_EVERY_S)


def _labels(scheduler: Any, group_ids: Sequence[str]) -> Dict[str, str]:
    """The groups' labels, for lines printed before their first progress (a group already taken over
    by another process has none here: `wait` says so)."""
    labels: Dict[str, str] = {}
    for group_id in group_ids:
        try:
            labels[group_id] = scheduler.summary(group_id).label
        except KeyError:
            continue
    return labels


def _settled(scheduler: Any, group_id: str) -> bool:
    """Whether waiting for the group is over (then `wait` returns its snapshot, or raises why: taken
    over by another process, the journal stopped it)."""
    settled = getattr(scheduler, "settled", None)
    if settled is not None:
        return bool(settled(group_id))
    state = scheduler.summary(group_id).state
    return str(getattr(state, "value", state)) in FINAL


def _cancel(scheduler: Any, group_ids: Sequence[str], interrupts: Any, err: IO[str]) -> None:
    """Cancel the groups on every server; a further signal stops waiting once the journal has it."""
    names = ", ".join(group_id[:8] for group_id in group_ids)
    err.write(f"{interrupts.signal_name()}: cancelling group {names} on every server "
              "(Ctrl-C again stops waiting for the servers)\n")
    err.flush()
    reports: List[Any] = []
    problems: List[str] = []

    def cancel_all() -> None:
        for group_id in group_ids:
            try:
                reports.append(scheduler.cancel(group_id))
            except NukeComfyError as exc:  # said once below, never a thread's traceback
                problems.append(f"group {group_id[:8]}: {exc}")

    worker = threading.Thread(target=cancel_all, name="nuke-comfyui-cancel", daemon=True)
    worker.start()
    while worker.is_alive():
        if interrupts.wait_for_more(1, 0.1):
            _wait_marked(scheduler, group_ids)
            err.write("stopped waiting for the servers: the journal has the group cancelled; prompts already "
                      "sent may still run there (`nuke-comfyui cancel` tries again)\n")
            err.flush()
            return
        worker.join(0.05)
    for report in reports:
        for line in report.lines():
            err.write(line + "\n")
    for line in problems:
        err.write(line + "\n")
    err.flush()


def _wait_marked(scheduler: Any, group_ids: Sequence[str]) -> None:
    """Until the cancel has marked every group's children (under the scheduler's lock, in ms)."""
    deadline = time.monotonic() + MARK_WAIT_S
    while time.monotonic() < deadline and not all(_settled(scheduler, g) for g in group_ids):
        time.sleep(0.02)


def _live_lines(scheduler: Any, group_ids: Sequence[str], printer: ProgressPrinter) -> List[Any]:
    """Per-node progress of the running jobs (cli/live_lines.py), when the scheduler offers it."""
    if getattr(scheduler, "live", None) is None:
        return []
    from nuke_comfyui.cli.live_lines import LiveLines

    return [LiveLines(scheduler.live, group_id, printer.write_line, tty=printer.tty).start() for group_id in group_ids]


def _availability(pool: Any, servers: Optional[Sequence[str]]) -> Any:
    if pool is None or not hasattr(pool, "statuses"):
        return None
    from nuke_comfyui.core.pool.availability import AvailabilityLog

    return AvailabilityLog(pool, servers)


def _progress_of(snapshot: Any) -> Any:
    from nuke_comfyui.core.scheduler import GroupProgress

    return GroupProgress(snapshot.group_id, snapshot.label, snapshot.state, snapshot.done, snapshot.failed,
                         snapshot.total, snapshot.fraction, snapshot.eta_s)
