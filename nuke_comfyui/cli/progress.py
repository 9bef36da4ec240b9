"""Following a job group in the terminal: a live progress bar on a TTY, plain lines otherwise.

Shared by `render`, `resume` and `retry`: they all submit or re-attach a group, follow it to
the end, print a summary (or the `--json` object) and exit 0 (all completed), 2 (partial) or
1 (failed / cancelled).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import IO, Any, Optional

from nuke_comfyui.core.scheduler import GroupSnapshot, GroupState, GroupUpdated, JobState, JobUpdated

EXIT_CODES = {GroupState.COMPLETED: 0, GroupState.PARTIAL: 2}


def exit_code(state: GroupState) -> int:
    """0 all completed, 2 partial, 1 anything else (failed, cancelled, unfinished)."""
    return EXIT_CODES.get(state, 1)


def _duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


class ProgressPrinter:
    """Scheduler subscriber that draws one group's progress (thread-safe, redraws at most 10/s)."""

    def __init__(self, group_id: str, stream: Optional[IO[str]] = None, tty: Optional[bool] = None,
                 width: int = 30) -> None:
        self.group_id = group_id
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.width = width
        self._lock = threading.Lock()
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, event: Any) -> None:
        if isinstance(event, GroupUpdated) and event.group.group_id == self.group_id and self.tty:
            self._draw(event.group)
        elif isinstance(event, JobUpdated) and event.job.group_id == self.group_id and not self.tty:
            self._line(event.job)

    def _draw(self, group: Any) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_draw < 0.1 and group.fraction < 1.0:
                return
            self._last_draw = now
            filled = int(self.width * group.fraction)
            bar = "#" * filled + "." * (self.width - filled)
            failed = f" {group.failed} failed" if group.failed else ""
            text = (f"\r[{bar}] {group.done}/{group.total}{failed} {group.fraction * 100:5.1f}% "
                    f"ETA {_duration(group.eta_s)}  {group.label}")
            self.stream.write(text)
            self.stream.flush()
            self._drawn = True

    def _line(self, job: Any) -> None:
        if job.state not in (JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT):
            return
        frame = "-" if job.frame is None else str(job.frame)
        where = f" on {job.server}" if job.server else ""
        error = f": {job.error}" if job.error else ""
        with self._lock:
            self.stream.write(f"frame {frame} v{job.variation + 1:02d} {job.state.value}{where}{error}\n")
            self.stream.flush()

    def finish(self) -> None:
        with self._lock:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False


def print_summary(snapshot: GroupSnapshot, *, as_json: bool, out: Optional[IO[str]] = None) -> None:
    """The final report: the `--json` object, or a few human lines with where the files are."""
    out = out or sys.stdout
    if as_json:
        json.dump(snapshot.to_json(), out, indent=2)
        out.write("\n")
        return
    out.write(f"group {snapshot.group_id} ({snapshot.label}): {snapshot.state.value}, "
              f"{snapshot.done}/{snapshot.total} completed, {snapshot.failed} failed\n")
    for seq in snapshot.sequences:
        out.write(f"  v{seq.variation + 1:02d} seed {seq.seed}: {seq.pattern} [{seq.first}-{seq.last}]\n")
    for job in snapshot.jobs:
        if job.state not in (JobState.COMPLETED, JobState.CANCELLED) and job.error:
            frame = "-" if job.frame is None else job.frame
            out.write(f"  frame {frame} v{job.variation + 1:02d}: {job.state.value}: {job.error}\n")
    if snapshot.state in (GroupState.PARTIAL, GroupState.FAILED):
        out.write(f"  re-run the failed frames with: nuke-comfyui retry {snapshot.group_id[:8]}\n")


def follow(scheduler: Any, group_id: str, *, as_json: bool, timeout: Optional[float] = None) -> int:
    """Show progress until the group settles, print the summary, return the exit code.

    Ctrl-C cancels the group on every server (nothing is left running) and exits 130.
    """
    printer = ProgressPrinter(group_id, tty=False if as_json else None)
    unsubscribe = scheduler.subscribe(printer)
    try:
        snapshot = scheduler.wait(group_id, timeout=timeout)
    except KeyboardInterrupt:
        printer.finish()
        sys.stderr.write(f"cancelling group {group_id[:8]} on every server...\n")
        scheduler.cancel(group_id)
        print_summary(scheduler.snapshot(group_id), as_json=as_json)
        return 130
    finally:
        unsubscribe()
    printer.finish()
    print_summary(snapshot, as_json=as_json)
    return exit_code(snapshot.state)
