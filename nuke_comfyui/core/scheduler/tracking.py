"""Tracking: event streams and polls turned into job states, and results collected.

One EventStream per server reports start, progress and completion of the prompts submitted
with its client id. When a stream is down, or after a reconnect (nothing is replayed), the
prompts it would have reported are polled with `client.prompt_state` instead; every prompt of
ours is also polled once per sweep interval, a safety net should an event ever go missing.
Event handlers run on stream threads; network calls (history, download, polls) run on the
worker pool.

Cost per event: most frames change nothing (`executing` a node, `execution_cached`, `executed`,
`execution_success`, queue status broadcasts, most `progress` ticks). Those are noted by the
stream's own `StreamOutputs` (stream_outputs.py) without the scheduler lock and wake nobody;
only a start, a failure, the end, a connection change or a progress step worth showing takes
the lock. The end hands the outputs heard on the stream to the collect task, which then reads no
history when they are complete.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from nuke_comfyui.core.config import DEFAULT_MAX_RESULT_MB
from nuke_comfyui.core.errors import NukeComfyError, ServerUnavailable
from nuke_comfyui.core.scheduler import attempt as net
from nuke_comfyui.core.scheduler import server_ids
from nuke_comfyui.core.scheduler.batch_results import BatchCountError
from nuke_comfyui.core.scheduler.failures import Action, Verdict, classify_execution_failure, lost_verdict
from nuke_comfyui.core.scheduler.jobs import ACTIVE, Job, JobState
from nuke_comfyui.core.scheduler.live_board import LiveBoard
from nuke_comfyui.core.scheduler.live_feed import LiveFeed
from nuke_comfyui.core.scheduler.recovery import Recovery
from nuke_comfyui.core.scheduler.state import SchedulerState, ServerLink
from nuke_comfyui.core.scheduler.stream_outputs import StreamOutputs, complete_outputs

log = logging.getLogger(__name__)

StreamFactory = Callable[[Any, Callable[[Any], None]], Any]

_PROGRESS_EVENTS = frozenset({"ExecutionStart", "Progress", "ExecutionFailed", "PromptDone"})
#: the ComfyUI message types tracking uses (the stream drops every other type before parsing);
#: "prompt_done" (events.PROMPT_DONE, not imported: that would load websocket with the core) is the
#: `executing` frame that ends a prompt, without the one per node that nothing here reads
TRACKED_KINDS = frozenset({"execution_start", "execution_cached", "prompt_done", "progress", "executed",
                           "execution_success", "execution_error", "execution_interrupted"})


class _Forward:
    """Stream callback bound to one server: notes what changes nothing, forwards the rest.

    Called only on its stream's thread, so its `heard` notes need no lock.
    """

    __slots__ = ("heard", "heard_at", "name", "tracking")

    def __init__(self, tracking: Tracking, name: str) -> None:
        self.tracking = tracking
        self.name = name
        self.heard = StreamOutputs()
        self.heard_at = tracking.state.heard_at

    def __call__(self, event: Any) -> None:
        kind = type(event).__name__
        heard = self.heard
        pid = getattr(event, "prompt_id", None)
        if pid is not None:  # the server is moving on a prompt of ours (stall_watch.py reads this)
            self.heard_at[self.name] = time.monotonic()
        if kind == "Executed":
            heard.executed(pid, event.node, event.output)
            return
        if kind == "ExecutionCached":
            heard.cached(pid, event.nodes)
            return
        if kind == "ExecutionSuccess":
            heard.succeeded(pid)
            return
        if kind == "Progress":
            if not (heard.progress_due(pid, float(event.value or 0), float(event.max or 0))
                    or self.name in self.tracking.state.suspect_until):  # a suspect's progress clears it
                return
        elif kind in ("Executing", "QueueStatus"):  # not asked for; a test stream may still send them
            return
        elif kind in ("Connected", "Disconnected"):
            heard.reset()
        elif kind == "ExecutionStart":
            heard.started(pid)
        elif kind == "ExecutionFailed":
            heard.forget(pid)
        elif kind == "PromptDone":
            self.tracking.on_stream_event(self.name, event, heard.finished(pid))
            return
        self.tracking.on_stream_event(self.name, event)


class Tracking:
    """Follows our prompts on every server and moves their jobs through their states."""

    def __init__(self, state: SchedulerState, recovery: Recovery,
                 stream_factory: Optional[StreamFactory] = None, live: Optional[LiveBoard] = None) -> None:
        self.state = state
        self.recovery = recovery
        self._stream_factory = stream_factory
        self.live = live  # the live view's board: each stream's previews and node progress go there
        state.start_stream = self.start_stream

    # -- streams ---------------------------------------------------------------------------------

    def start_stream(self, link: ServerLink) -> None:
        """Open the server's event stream (never called with the state lock held: a stream may
        deliver its first event synchronously, and that event takes the lock)."""
        factory = self._stream_factory or _default_stream_factory(self.live)
        if factory is None or link.stream is not None or not self.state.running:
            return
        forward = _Forward(self, link.name)
        link.stream = factory(link.config, forward if self.live is None else
                              LiveFeed(self.live, self.state, link.name, forward))
        link.stream.start()

    def on_stream_event(self, server: str, event: Any, heard: Any = None) -> None:
        """An event that may change state (under the lock); `heard`: a PromptDone's stream notes."""
        s = self.state
        kind = type(event).__name__
        with s.lock:
            link = s.links.get(server)
            if link is None:
                return
            if kind in _PROGRESS_EVENTS:
                s.cleared(server)  # the server is moving: not (or no longer) stuck
                if server in s.stall_notes and s.current(getattr(event, "prompt_id", None)) is not None:
                    s.moved(server)  # on a prompt that counts (a stalled one's late answer does not)
            if kind == "Connected":
                self._stream_connected(link, event)
            elif kind == "Disconnected":
                self._stream_lost(link)
            elif kind == "ExecutionStart":
                job = s.current(event.prompt_id)
                if job is not None and job.state is JobState.DISPATCHED:
                    self.mark_running(job)
            elif kind == "Progress":
                self._on_progress(event)
            elif kind == "ExecutionFailed":
                self._on_execution_failed(event.prompt_id, event.failure)
            elif kind == "PromptDone":
                self._on_prompt_done(server, event.prompt_id, heard)
        s.wake.set()

    def _stream_connected(self, link: ServerLink, event: Any) -> None:
        link.stream_up = True
        link.client_id = getattr(event, "client_id", link.client_id)
        if getattr(event, "reconnect", False):
            # Nothing is replayed after a reconnect: poll what the old connection would have told us.
            self._unwatch(link.name)
            self.state.next_poll = 0.0

    def _stream_lost(self, link: ServerLink) -> None:
        link.stream_up = False
        self._unwatch(link.name)
        self.state.next_poll = 0.0

    def _unwatch(self, server: str) -> None:
        s = self.state
        for pid, where in s.occupying.items():
            job = s.by_prompt.get(pid)
            if where == server and job is not None:
                job.watched = False

    # -- events ----------------------------------------------------------------------------------

    def _on_progress(self, event: Any) -> None:
        job = self.state.current(getattr(event, "prompt_id", None))
        if job is None:
            return
        if job.state is JobState.DISPATCHED:
            self.mark_running(job)
        maximum = float(getattr(event, "max", 0) or 0)
        value = float(getattr(event, "value", 0) or 0)
        progress = min(1.0, value / maximum) if maximum > 0 else 0.0
        if progress != job.progress:  # the stream already thinned the frames (stream_outputs.py)
            job.progress = progress
            self.state.job_changed(job, journal=False)

    def mark_running(self, job: Job) -> None:
        s = self.state
        job.move(JobState.RUNNING)
        job.started_at = time.monotonic()
        current = job.attempt
        if current is not None:
            current.outcome = "running"
            s.dirty_attempt(job, current)
        assert job.prompt_id is not None
        server = s.occupying.get(job.prompt_id)
        if server is not None:  # fastest counts what this job has done when it places the next one
            s.dispatcher.started(server, job.prompt_id, job.started_at)
        s.push_timer(job.started_at + s.timeout_of(job), "exec", job, job.prompt_id)
        s.job_changed(job)

    def _on_execution_failed(self, pid: Optional[str], failure: Any) -> None:
        if pid is None:
            return
        job = self.state.current(pid)
        self.state.release(pid)
        if job is not None and job.state in ACTIVE:
            self.recovery.apply_verdict(job, pid, classify_execution_failure(failure))

    def _on_prompt_done(self, server: str, pid: Optional[str], heard: Any = None) -> None:
        """The prompt ended: collect its results (from the stream's notes when they are complete)."""
        s = self.state
        if pid is None:
            return
        job = s.current(pid)
        s.release(pid)
        if job is None or job.state not in ACTIVE:
            return
        current = job.attempt
        if current is None or current.outcome == "collecting":
            return
        current.outcome = "collecting"
        if job.started_at:
            key = (job.group.plan.placement or {}).get("duration_key", "")
            record = getattr(s.pool, "record_duration", None)
            if record is not None:
                record(server, key, time.monotonic() - job.started_at)
        link = s.links[server]
        outputs = complete_outputs(heard, tuple(getattr(job.group.plan, "output_nodes", ()) or ()))
        s.tasks.append(lambda: self._collect_task(job, pid, link, outputs))

    def _collect_task(self, job: Job, pid: str, link: ServerLink, outputs: Optional[List[Any]] = None) -> None:
        """Fetch the results; `outputs` heard complete on the stream spare the GET /history."""
        s = self.state
        paths: List[str] = []
        verdict: Optional[Verdict] = None
        try:
            entry = _Heard(outputs) if outputs is not None else net.read_history(link.client, pid)
            if entry is None:
                verdict = Verdict(Action.REQUEUE, "lost", f"{link.name} finished the prompt but has no "
                                  "history for it (restarted?); rendering it again")
            elif getattr(entry, "failure", None) is not None:
                verdict = classify_execution_failure(entry.failure)
            else:
                paths = net.collect(job.group.plan, job, entry, client=link.client, server=link.config,
                                    max_bytes=max_result_bytes(s.pool))
                if not paths:
                    verdict = Verdict(Action.FAIL, "failed", "the workflow finished without writing any "
                                      "file; check its output node saves images")
        except ServerUnavailable as exc:
            verdict = lost_verdict(link.name, str(exc))
        except BatchCountError as exc:  # the workflow's doing: every server would answer the same
            verdict = Verdict(Action.FAIL, "failed", str(exc))
        except (NukeComfyError, OSError) as exc:
            verdict = Verdict(Action.RETRY, "failed", f"could not collect results from {link.name}: {exc}")
        with s.lock:
            if job.prompt_id != pid or job.state not in ACTIVE:
                return
            if verdict is not None:
                self.recovery.apply_verdict(job, pid, verdict)
            else:
                current = job.attempt
                if current is not None:
                    current.finish("completed")
                    s.dirty_attempt(job, current)
                s.detach(job)
                job.progress = 1.0
                s.finish(job, JobState.COMPLETED, outputs=paths)
        s.wake.set()

    # -- polls -----------------------------------------------------------------------------------

    def pollable_any(self) -> bool:
        return any(self._pollable(pid) for pid in self.state.occupying)

    def _pollable(self, pid: str) -> bool:
        job = self.state.by_prompt.get(pid)
        if job is None or job.prompt_id != pid:
            return True  # a zombie: ours, given up on, maybe still occupying its server
        current = job.attempt
        return not job.watched and current is not None and current.outcome in ("submitted", "running")

    def due_polls(self, now: float) -> List[Tuple[str, List[str]]]:
        """Prompts to ask about now: unwatched and zombie ones every poll interval; every prompt
        of ours on a server the pool reports offline; and every prompt of ours once per sweep
        interval (a safety net should an event ever go missing)."""
        s = self.state
        sweep = bool(s.occupying) and now >= s.next_sweep
        if now < s.next_poll and not sweep and not s.verify:
            return []
        by_server: Dict[str, List[str]] = {}
        for pid, server in s.occupying.items():
            everything = sweep or server in s.verify
            if self._pollable(pid) or (everything and self._submitted(pid)):
                by_server.setdefault(server, []).append(pid)
        due = []
        for server, pids in by_server.items():
            link = s.links.get(server)
            if link is not None and not link.poll_busy:
                link.poll_busy = True
                s.verify.discard(server)
                due.append((server, pids))
        s.verify &= set(by_server)  # nothing of ours there: nothing to verify
        s.next_poll = now + s.poll_interval
        if sweep:
            s.next_sweep = now + s.sweep_interval
        return due

    def _submitted(self, pid: str) -> bool:
        job = self.state.current(pid)
        current = job.attempt if job is not None else None
        return current is not None and current.outcome in ("submitted", "running")

    def poll_task(self, server: str, pids: List[str]) -> None:
        s = self.state
        link = s.links[server]
        try:
            for pid in pids:
                raw = link.client.prompt_state(pid)
                state = str(getattr(raw, "value", raw))
                theirs = server_ids.find_replaced(link.client, pid) if state == "unknown" else None
                with s.lock:
                    job = s.current(pid)
                    if theirs is not None and job is not None and pid in s.occupying:
                        server_ids.adopt(s, job, pid, theirs)  # journaled under our id, queued under theirs
                        continue
                    self._apply_poll(server, pid, state)
        except ServerUnavailable as exc:
            with s.lock:
                self.recovery.server_lost(server, str(exc))
        except NukeComfyError as exc:
            log.warning("polling %s failed: %s", server, exc)
        finally:
            with s.lock:
                link.poll_busy = False
            s.wake.set()

    def _apply_poll(self, server: str, pid: str, state: str) -> None:
        s = self.state
        if pid not in s.occupying:
            return
        job = s.current(pid)
        if job is None:  # zombie: gone once the server no longer runs or queues it
            if state not in ("pending", "running"):
                s.release(pid)
            return
        if state == "running" and job.state is JobState.DISPATCHED:
            self.mark_running(job)
        elif state in ("completed", "failed"):
            self._on_prompt_done(server, pid)
        elif state == "unknown":
            s.release(pid)
            self.recovery.apply_verdict(job, pid, Verdict(Action.REQUEUE, "lost",
                                                          f"{server} no longer knows the prompt; "
                                                          "sending it again"), exclude=False)


class _Heard:
    """Stands in for a history entry when the stream carried every output (no failure: it succeeded)."""

    __slots__ = ("outputs",)
    failure = None

    def __init__(self, outputs: List[Any]) -> None:
        self.outputs = outputs


def max_result_bytes(pool: Any) -> int:
    """The cluster's cap on one result file (`max_result_mb`; the default without a cluster)."""
    mb = getattr(getattr(pool, "cluster", None), "max_result_mb", None)
    return int((mb if isinstance(mb, (int, float)) else DEFAULT_MAX_RESULT_MB) * 2**20)


def _default_stream_factory(live: Optional[LiveBoard] = None) -> Optional[StreamFactory]:
    try:
        from nuke_comfyui.core.comfy.events import EventStream
    except ImportError:
        return None
    interest = None if live is None else live.interest

    def factory(config: Any, on_event: Callable[[Any], None]) -> Any:
        return EventStream(config, on_event, kinds=TRACKED_KINDS, interest=interest)

    return factory
