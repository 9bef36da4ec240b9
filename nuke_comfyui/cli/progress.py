"""Following job groups in the terminal: a live progress bar on a TTY, plain lines otherwise.

Shared by `render`, `resume`, `retry`, `demo` and farm tasks (cli/follow.py runs the wait).
Plain lines (a pipe, a log file, a farm manager's log) carry one line per finished job, every one
of them, in the order they finished: a line missed while events were in flight is printed from
the final snapshot before the summary (`catch_up`). A failure reason is printed in full the first
time; later jobs that failed the same way point back to it, so a long reason is read once.
On a TTY the bar's count and percentage agree: a job still running counts at most
`RUNNING_SHARE` of itself (its sampler may be at 100 % while it decodes and saves), so the bar
never says 100 % before every job has settled.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import IO, Any, Dict, Iterable, List, Optional, Set, Tuple

from nuke_comfyui.core.scheduler import GroupUpdated, JobState, JobUpdated
from nuke_comfyui.core.variation_names import variation_name

# What earlier modules imported from here (commands and tests): kept importable.
from nuke_comfyui.cli.summary import exit_code, frame_ranges, one_line, print_summary, reason_of  # noqa: F401  isort: skip

LINE_STATES = (JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT)
FINAL_GROUP_STATES = ("completed", "partial", "failed", "cancelled")
#: the most of one running job the bar counts before it settles
RUNNING_SHARE = 0.9


def _duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def shown_fraction(progress: Any) -> float:
    """The bar's fraction: the group's, but never more than its settled jobs plus RUNNING_SHARE of
    each unsettled one, so `10/12` is never drawn as 100 %. A settled group shows its settled
    share (a cancelled group's 2 of 16 frames is 12.5 %, as its count says)."""
    total = max(1, int(progress.total))
    settled = int(progress.done) + int(progress.failed)
    if settled >= total:
        return 1.0
    state = getattr(progress, "state", "running")
    if str(getattr(state, "value", state)) in FINAL_GROUP_STATES:
        return settled / total
    ceiling = (settled + RUNNING_SHARE * (total - settled)) / total
    return max(0.0, min(float(progress.fraction), ceiling))


class ProgressPrinter:
    """Scheduler subscriber that draws the progress of one or more groups (thread-safe, redraws at most 10/s)."""

    def __init__(self, group_ids: Any, stream: Optional[IO[str]] = None, tty: Optional[bool] = None,
                 width: int = 30, labels: bool = False) -> None:
        self.group_ids: Set[str] = {group_ids} if isinstance(group_ids, str) else set(group_ids)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.width = width
        self.labels = labels  # prefix lines with the group's label (several groups at once)
        self._lock = threading.Lock()
        self._last_draw = 0.0
        self._drawn = False
        self._width_drawn = 0
        self._progress: Dict[str, Any] = {}
        self._printed: Set[Tuple[str, str, int]] = set()  # (job id, state, attempts) whose line is out
        self._first_with: Dict[str, str] = {}  # failure reason -> the job that printed it in full
        self._label_of: Dict[str, str] = {}
        self.live: Any = []  # live_lines.LiveLines (one, or one per group): the slowest job's node after the bar

    def __call__(self, event: Any) -> None:
        if isinstance(event, GroupUpdated) and event.group.group_id in self.group_ids:
            self._label_of[event.group.group_id] = event.group.label
            if self.tty:
                with self._lock:
                    self._progress[event.group.group_id] = event.group
                self._draw()
        elif isinstance(event, JobUpdated) and event.job.group_id in self.group_ids and not self.tty:
            self._line(event.job)

    # -- the bar ---------------------------------------------------------------------------------

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            groups = list(self._progress.values())
            if not groups:
                return
            done = sum(g.done for g in groups)
            failed = sum(g.failed for g in groups)
            total = sum(g.total for g in groups) or 1
            fraction = sum(shown_fraction(g) * g.total for g in groups) / total
            if not force and now - self._last_draw < 0.1 and fraction < 1.0:
                return
            self._last_draw = now
            filled = int(self.width * fraction)
            bar = "#" * filled + "." * (self.width - filled)
            failures = f" {failed} failed" if failed else ""
            etas = [g.eta_s for g in groups]
            eta = None if any(e is None for e in etas) else max(etas, default=None)
            label = ", ".join(g.label for g in groups)
            lives = self.live if isinstance(self.live, list) else [self.live] if self.live else []
            live = next((suffix for suffix in (lines.suffix() for lines in lives) if suffix), "")
            text = (f"\r[{bar}] {done}/{total}{failures} {int(fraction * 1000) / 10:5.1f}% "
                    f"ETA {_duration(eta)}  {label}{live}")
            self.stream.write(text + " " * max(0, self._width_drawn - len(text)))
            self.stream.flush()
            self._drawn = True
            self._width_drawn = len(text)

    # -- plain lines -----------------------------------------------------------------------------

    def _line(self, job: Any) -> None:
        if job.state not in LINE_STATES:
            return
        key = (job.job_id, job.state.value, job.attempts)
        with self._lock:
            if key in self._printed:
                return
            self._printed.add(key)
            self.stream.write(self._text(job) + "\n")
            self.stream.flush()

    def _text(self, job: Any) -> str:
        """One job's line (under the lock): its failure reason in full only the first time."""
        where = f" on {job.server}" if job.server else ""
        prefix = f"{self._label_of.get(job.group_id, '')}: " if self.labels and job.group_id in self._label_of else ""
        name = describe_job(job)
        error = ""
        if job.error:
            reason = reason_of(job)  # the same reason from another server is the same reason
            first = self._first_with.get(reason)
            if first is None:
                self._first_with[reason] = prefix + name
                error = f": {one_line(job.error)}"
            else:
                error = f" (same reason as {first})"
        return f"{prefix}{name} {job.state.value}{where}{error}"

    def know_labels(self, labels: Dict[str, str]) -> None:
        """The groups' labels before their first event (a line may come before the group's progress)."""
        with self._lock:
            self._label_of.update(labels)

    def write_line(self, text: str) -> None:
        """One whole line from another thread (live node progress), never inside another line."""
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def catch_up(self, jobs: Iterable[Any], labels: Optional[Dict[str, str]] = None) -> None:
        """Print the line of every finished job whose event was not heard (plain lines only)."""
        if self.tty:
            return
        self._label_of.update(labels or {})
        for job in jobs:
            if job.group_id in self.group_ids:
                self._line(job)

    # -- around log lines and the end ------------------------------------------------------------

    def clear_line(self) -> None:
        """Wipe the bar so a log line gets a line of its own (the next update redraws the bar)."""
        with self._lock:
            if self._drawn:
                self.stream.write("\r" + " " * self._width_drawn + "\r")
                self.stream.flush()
                self._drawn = False
                self._last_draw = 0.0

    def finish(self, final: Iterable[Any] = ()) -> None:
        """End the bar: drawn once more from the groups' final progress, then a newline."""
        if self.tty:
            with self._lock:
                for progress in final:
                    if progress.group_id in self.group_ids:
                        self._progress[progress.group_id] = progress
            self._draw(force=True)
        with self._lock:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False


def describe_job(job: Any) -> str:
    """`frame 1001 var01` for a frame, `frames 1001-1008 var01` for a chunk, `var03 seed 1234` for a
    seed variation without frames (`var01` alone when the workflow has no seed input)."""
    if job.frame is None:
        seed = f" seed {job.seed}" if getattr(job, "seeded", True) else ""
        return f"{variation_name(job.variation)}{seed}"
    frames = tuple(getattr(job, "frames", ()) or ())
    if len(frames) > 1:
        return f"frames {frames[0]}-{frames[-1]} {variation_name(job.variation)}"
    return f"frame {job.frame} {variation_name(job.variation)}"


class _ClearBarFilter(logging.Filter):
    """Before a log record is written to the bar's stream, move the bar out of its way."""

    def __init__(self, printer: ProgressPrinter) -> None:
        super().__init__()
        self.printer = printer

    def filter(self, record: logging.LogRecord) -> bool:
        self.printer.clear_line()
        return True


def bar_handlers(printer: ProgressPrinter) -> List[logging.Handler]:
    """The log handlers writing to the bar's stream (they get a _ClearBarFilter while it shows)."""
    return [h for h in logging.getLogger().handlers
            if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is printer.stream]
