"""Following a job group in the terminal: a live progress bar on a TTY, plain lines otherwise.

Shared by `render`, `resume` and `retry`: they all submit or re-attach a group, follow it to
the end, print a summary (or the `--json` object) and exit 0 (all completed), 2 (partial) or
1 (failed / cancelled).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import IO, Any, List, Optional

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
        self._width_drawn = 0
        self.live: Optional[Any] = None  # live_lines.LiveLines: the slowest job's node after the bar

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
                    f"ETA {_duration(group.eta_s)}  {group.label}{self.live.suffix() if self.live else ''}")
            self.stream.write(text + " " * max(0, self._width_drawn - len(text)))  # a shorter line wipes the last
            self.stream.flush()
            self._drawn = True
            self._width_drawn = len(text)

    def _line(self, job: Any) -> None:
        if job.state not in (JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT):
            return
        where = f" on {job.server}" if job.server else ""
        error = f": {job.error}" if job.error else ""
        with self._lock:
            self.stream.write(f"{describe_job(job)} {job.state.value}{where}{error}\n")
            self.stream.flush()

    def write_line(self, text: str) -> None:
        """One whole line from another thread (live node progress), never inside another line."""
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def clear_line(self) -> None:
        """Wipe the bar so a log line gets a line of its own (the next update redraws the bar)."""
        with self._lock:
            if self._drawn:
                self.stream.write("\r" + " " * self._width_drawn + "\r")
                self.stream.flush()
                self._drawn = False
                self._last_draw = 0.0

    def finish(self) -> None:
        with self._lock:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False


def describe_job(job: Any) -> str:
    """`frame 1001 v01` for a frame, `frames 1001-1008 v01` for a chunk, `v03 seed 1234` for a seed
    variation without frames."""
    if job.frame is None:
        return f"v{job.variation + 1:02d} seed {job.seed}"
    frames = tuple(getattr(job, "frames", ()) or ())
    if len(frames) > 1:
        return f"frames {frames[0]}-{frames[-1]} v{job.variation + 1:02d}"
    return f"frame {job.frame} v{job.variation + 1:02d}"


def _counted(snapshot: GroupSnapshot) -> str:
    """`3/3 completed`, or for frame batches `3/3 chunks completed (20 frames)`."""
    chunks = any(len(getattr(job, "frames", ()) or ()) > 1 for job in snapshot.jobs)
    if not chunks:
        return f"{snapshot.done}/{snapshot.total} completed"
    frames = len({f for job in snapshot.jobs for f in job.frames})
    return f"{snapshot.done}/{snapshot.total} chunks completed ({frames} frames)"


def frame_ranges(frames: List[int]) -> str:
    """`1-2,5,7-9` for the frames that exist."""
    parts: List[str] = []
    ordered = sorted(set(frames))
    if not ordered:
        return ""
    start = prev = ordered[0]
    for frame in ordered[1:]:
        if frame == prev + 1:
            prev = frame
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = frame
    parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)


def print_summary(snapshot: GroupSnapshot, *, as_json: bool, out: Optional[IO[str]] = None) -> None:
    """The final report: the `--json` object, or a few human lines with what is on disk where.

    Hints are printed only when following them would do something.
    """
    out = out or sys.stdout
    if as_json:
        json.dump(snapshot.to_json(), out, indent=2)
        out.write("\n")
        return
    cancelled = sum(1 for job in snapshot.jobs if job.state is JobState.CANCELLED)
    extra = f", {cancelled} cancelled" if cancelled else ""
    out.write(f"group {snapshot.group_id} ({snapshot.label}): {snapshot.state.value}, "
              f"{_counted(snapshot)}, {snapshot.failed} failed{extra}\n")
    for seq in snapshot.sequences:
        done = seq.frames_done
        wanted = seq.last - seq.first + 1
        if seq.first == seq.last or len(done) == wanted:
            where = f"[{seq.first}-{seq.last}]" if seq.first != seq.last else ""
        else:
            where = f"{len(done)} of {wanted} frames on disk: {frame_ranges(done)}"
        out.write(f"  v{seq.variation + 1:02d} seed {seq.seed}: {seq.pattern} {where}".rstrip() + "\n")
    for job in snapshot.jobs:
        if job.state not in (JobState.COMPLETED, JobState.CANCELLED) and job.error:
            out.write(f"  {describe_job(job)}: {job.state.value}: {job.error}\n")
    short = snapshot.group_id[:8]
    failed = sum(1 for job in snapshot.jobs if job.state in (JobState.FAILED, JobState.TIMEOUT))
    if failed or (cancelled and snapshot.state is not GroupState.RUNNING):
        what = " and ".join(x for x in (f"{failed} failed" if failed else "",
                                        f"{cancelled} cancelled" if cancelled else "") if x)
        out.write(f"  re-run the {what} job(s) with: nuke-comfyui retry {short}\n")


class _ClearBarFilter(logging.Filter):
    """Before a log record is written to the bar's stream, move the bar out of its way."""

    def __init__(self, printer: ProgressPrinter) -> None:
        super().__init__()
        self.printer = printer

    def filter(self, record: logging.LogRecord) -> bool:
        self.printer.clear_line()
        return True


def _bar_handlers(printer: ProgressPrinter) -> List[logging.Handler]:
    return [h for h in logging.getLogger().handlers
            if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is printer.stream]


def follow(scheduler: Any, group_id: str, *, as_json: bool, timeout: Optional[float] = None) -> int:
    """Show progress until the group settles, print the summary, return the exit code.

    Ctrl-C cancels the group on every server (nothing is left running) and exits 130.
    """
    printer = ProgressPrinter(group_id, tty=False if as_json else None)
    unsubscribe = scheduler.subscribe(printer)
    live = None
    if not as_json and getattr(scheduler, "live", None) is not None:
        from nuke_comfyui.cli.live_lines import LiveLines

        live = LiveLines(scheduler.live, group_id, printer.write_line, tty=printer.tty).start()
        printer.live = live
    handlers = _bar_handlers(printer) if printer.tty else []
    clear = _ClearBarFilter(printer)
    for handler in handlers:
        handler.addFilter(clear)
    try:
        snapshot = scheduler.wait(group_id, timeout=timeout)
        drain = getattr(scheduler, "drain_events", None)
        if drain is not None:
            drain()  # the last "frame N completed" is printed before we stop listening
    except KeyboardInterrupt:
        printer.finish()
        sys.stderr.write(f"cancelling group {group_id[:8]} on every server...\n")
        scheduler.cancel(group_id)
        print_summary(scheduler.snapshot(group_id), as_json=as_json)
        return 130
    finally:
        if live is not None:
            live.stop()
        unsubscribe()
        for handler in handlers:
            handler.removeFilter(clear)
    printer.finish()
    print_summary(snapshot, as_json=as_json)
    return exit_code(snapshot.state)
