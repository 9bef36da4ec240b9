"""`ComfyClient`: the one place that makes HTTP calls to one ComfyUI server.

Why one class: every trap of the ComfyUI protocol (see docs and COMFYUI_PROTOCOL.md) is handled
here once — 200 answers that still carry node_errors, plain-text 500s, 403 for an Origin that
does not match, `{}` for both unknown and unfinished history, heap-ordered pending queues,
bare /interrupt stopping other artists' work — so callers only ever see typed values and the
typed errors of `core/errors.py`. Garbage from the server becomes ProtocolError, never a
KeyError or TypeError.

Retries: only connection errors (refused, reset, connect timeout) are retried, with exponential
backoff. POST /prompt is not blindly re-sent: the client chose the prompt_id, so before sending
again we ask the server (`prompt_state`) whether the first POST landed; only an `unknown` answer
re-sends, so a lost response can never queue the same job twice. Servers before 0.3.45 make their
own ids; our id also travels in extra_data (prompt_marks.py), so `find_prompt` finds it there.

Thread safety: one keep-alive connection pool per client (core/comfy/transport.py), shared by
the scheduler's worker threads. How a request is sent and its answer typed: calls.py; how a
validation error reads: validation_text.py.
"""

from __future__ import annotations

import logging
import mimetypes
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from nuke_comfyui.core.comfy import prompt_marks
from nuke_comfyui.core.comfy.calls import Calls, get_path, is_number, try_json
from nuke_comfyui.core.comfy.outputs import (
    capped,
    failure_from_error,
    failure_from_messages,
    message_timestamp,
    output_files,
    safe_join,
    write_atomically,
)
from nuke_comfyui.core.comfy.system_stats import BadStats, read_system_stats
from nuke_comfyui.core.comfy.transport import Response
from nuke_comfyui.core.comfy.types import (
    ExecutionFailure,
    HistoryEntry,
    JobInfo,
    PromptState,
    QueueItem,
    QueueSnapshot,
    SubmitResult,
    SystemStats,
    UploadedFile,
)
from nuke_comfyui.core.comfy.validation_text import render_node_errors, render_validation
from nuke_comfyui.core.errors import ComfyError, PromptValidationError, ProtocolError, ServerUnavailable

log = logging.getLogger(__name__)


_JOB_STATES = {
    "pending": PromptState.PENDING,
    "in_progress": PromptState.RUNNING,
    "running": PromptState.RUNNING,
    "completed": PromptState.COMPLETED,
    "success": PromptState.COMPLETED,
    "failed": PromptState.FAILED,
    "error": PromptState.FAILED,
    "cancelled": PromptState.FAILED,
    "interrupted": PromptState.FAILED,
}


class UnsupportedEndpoint(ProtocolError):
    """The server is older than the route we asked for (e.g. /api/jobs before ComfyUI 0.8)."""


class ComfyClient(Calls):
    """Every HTTP call to one ComfyUI server (see ARCHITECTURE.md, Client)."""

    def __init__(
        self,
        server: Any,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.2,
        transport: Any = None,
    ) -> None:
        super().__init__(server, connect_timeout=connect_timeout, read_timeout=read_timeout, retries=retries,
                         backoff=backoff, transport=transport)
        self._jobs_route: Optional[bool] = None  # None = not tried yet; False = old server, use history

    def __repr__(self) -> str:
        return f"ComfyClient({self.name!r}, {self.base_url!r})"

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> ComfyClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- submitting --------------------------------------------------------------------------------
    def submit(
        self,
        prompt: Dict[str, Any],
        *,
        client_id: str,
        prompt_id: str,
        extra_data: Optional[Dict[str, Any]] = None,
        front: bool = False,
    ) -> SubmitResult:
        """POST /prompt with our own prompt_id. 400 -> PromptValidationError (never retried).

        A connection error is retried only after `prompt_state(prompt_id)` says the server does
        not know the prompt; if it does, the first POST landed and its id is returned as is
        (number -1: the answer that carried the queue number was lost).
        """
        body: Dict[str, Any] = {"prompt": prompt, "client_id": client_id, "prompt_id": prompt_id,
                                "extra_data": prompt_marks.marked(extra_data, prompt_id)}
        if front:
            body["front"] = True
        attempt = 0
        while True:
            try:
                response = self._send("POST", "/prompt", json_body=body, retry=False)
                break
            except ServerUnavailable:
                if attempt >= self.retries:
                    raise
                attempt += 1
                time.sleep(self.backoff * (2 ** (attempt - 1)))
                try:
                    landed = self._landed_as(prompt_id)
                except ServerUnavailable:
                    continue
                if landed is not None:
                    log.info("%s: prompt %s was queued although its answer was lost", self.name, prompt_id)
                    return SubmitResult(prompt_id=landed, number=-1, node_errors={})
        if response.status_code == 400:
            raise self._validation_error(response)
        self._raise_for_status(response, "POST /prompt")
        data = self._json_dict(response, "POST /prompt")
        node_errors = data.get("node_errors") or {}
        if not isinstance(node_errors, dict):
            raise self._protocol("POST /prompt", "node_errors is not an object")
        if node_errors:
            log.warning("%s accepted prompt %s but dropped invalid branches: %s", self.name, prompt_id,
                        render_node_errors(node_errors))
        returned = data.get("prompt_id", prompt_id)
        number = data.get("number", -1)
        if not isinstance(returned, str) or not is_number(number):
            raise self._protocol("POST /prompt", "answer lacks prompt_id/number")
        return SubmitResult(prompt_id=returned, number=int(number), node_errors=dict(node_errors))

    def _landed_as(self, prompt_id: str) -> Optional[str]:
        """After a lost POST answer: the id the prompt was queued under, or None if it never landed."""
        if self.prompt_state(prompt_id) is not PromptState.UNKNOWN:
            return prompt_id
        try:
            return self.find_prompt(prompt_id)
        except ServerUnavailable:
            raise
        except ComfyError as exc:
            log.warning("%s: cannot search the queue for prompt %s (%s); sending it again", self.name,
                        prompt_id, exc)
            return None

    def _validation_error(self, response: Response) -> PromptValidationError:
        data = self._json_dict(response, "POST /prompt (400)")
        error = data.get("error")
        error = error if isinstance(error, dict) else {"message": str(error or "")}
        node_errors = data.get("node_errors")
        node_errors = node_errors if isinstance(node_errors, dict) else {}
        return PromptValidationError(render_validation(error, node_errors), self.name, error, node_errors)

    # -- queue ---------------------------------------------------------------------------------------
    def queue_remaining(self) -> int:
        """GET /prompt: running + pending, the cheapest load probe."""
        data = self._get_json("/prompt")
        value = get_path(data, ("exec_info", "queue_remaining"))
        if not is_number(value):
            raise self._protocol("GET /prompt", "no exec_info.queue_remaining")
        return int(value)

    def queue(self) -> QueueSnapshot:
        """GET /queue: running and pending items, pending sorted by number (run order)."""
        data = self._get_json("/queue")
        if "queue_running" not in data or "queue_pending" not in data:
            raise self._protocol("GET /queue", "the answer has no queue_running/queue_pending")
        running = self._queue_items(data["queue_running"], "queue_running")
        pending = self._queue_items(data["queue_pending"], "queue_pending")
        pending.sort(key=lambda item: item.number)
        return QueueSnapshot(running=running, pending=pending)

    def _queue_items(self, raw: Any, what: str) -> List[QueueItem]:
        if not isinstance(raw, list):
            raise self._protocol("GET /queue", f"{what} is not a list")
        items: List[QueueItem] = []
        for entry in raw:
            if not isinstance(entry, list) or len(entry) < 2 or not is_number(entry[0]) \
                    or not isinstance(entry[1], str):
                raise self._protocol("GET /queue", f"an item of {what} is not [number, prompt_id, ...]")
            extra = entry[3] if len(entry) > 3 and isinstance(entry[3], dict) else {}
            client_id = extra.get("client_id")
            items.append(QueueItem(number=entry[0], prompt_id=entry[1],
                                   client_id=client_id if isinstance(client_id, str) else None))
        return items

    def find_prompt(self, our_id: str) -> Optional[str]:
        """The server's id of the prompt we submitted as `our_id` (queued or in recent history), else None.

        For servers that ignore client-chosen ids (before 0.3.45): see prompt_marks.py.
        """
        found = prompt_marks.find_in_queue(self._get_json("/queue"), our_id)
        if found is None:
            history = self._get_json(f"/history?max_items={prompt_marks.HISTORY_SEARCHED}")
            found = prompt_marks.find_in_history(history, our_id)
        return found

    def delete_pending(self, prompt_ids: Sequence[str]) -> None:
        """Remove our pending prompts (running ones are untouched: interrupt those by id)."""
        ids = [str(pid) for pid in prompt_ids]
        if ids:
            self._checked("POST", "/queue", json_body={"delete": ids})

    def interrupt(self, prompt_id: str) -> None:
        """Interrupt `prompt_id` if it runs now. Never a bare /interrupt: that stops anyone's job."""
        if not prompt_id:
            raise ValueError("interrupt needs a prompt_id: a bare interrupt could stop another artist's job")
        self._checked("POST", "/interrupt", json_body={"prompt_id": prompt_id})

    # -- results -------------------------------------------------------------------------------------
    def history(self, prompt_id: str) -> Optional[HistoryEntry]:
        """The finished prompt's entry, or None while the server answers `{}` (unknown or unfinished)."""
        data = self._get_json(f"/history/{prompt_id}")
        if not data:
            return None
        entry = data.get(prompt_id)
        if not isinstance(entry, dict):
            raise self._protocol(f"GET /history/{prompt_id}", "the answer does not hold this prompt")
        return self._history_entry(prompt_id, entry)

    def _history_entry(self, prompt_id: str, entry: Dict[str, Any]) -> HistoryEntry:
        status = entry.get("status")
        status = status if isinstance(status, dict) else {}
        messages = status.get("messages")
        return HistoryEntry(
            prompt_id=prompt_id,
            status_str=str(status.get("status_str") or ""),
            completed=bool(status.get("completed", False)),
            outputs=output_files(entry.get("outputs")),
            failure=failure_from_messages(messages),
            started_ms=message_timestamp(messages, ("execution_start",)),
            ended_ms=message_timestamp(messages, ("execution_success", "execution_error",
                                                  "execution_interrupted")),
        )

    def job(self, prompt_id: str) -> Optional[JobInfo]:
        """GET /api/jobs/{id} (ComfyUI 0.8+). None for an unknown id; UnsupportedEndpoint on old servers."""
        what = f"GET /api/jobs/{prompt_id}"
        response = self._send("GET", f"/api/jobs/{prompt_id}")
        if response.status_code in (404, 405):
            body = try_json(response)
            if response.status_code == 404 and isinstance(body, dict):
                return None  # the route exists and says: no such job
            raise UnsupportedEndpoint(f"{self.base_url} has no /api/jobs route (ComfyUI older than 0.8); "
                                      "using /history and /queue instead", self.name)
        self._raise_for_status(response, what)
        data = self._json_dict(response, what)
        status = data.get("status")
        if not isinstance(status, str):
            raise self._protocol(what, "no job status")
        failure: Optional[ExecutionFailure] = None
        error = data.get("execution_error")
        if isinstance(error, dict):
            failure = failure_from_error(error)
        else:
            execution_status = data.get("execution_status")
            if isinstance(execution_status, dict):
                failure = failure_from_messages(execution_status.get("messages"))
        return JobInfo(prompt_id=prompt_id, status=status, outputs=output_files(data.get("outputs")),
                       failure=failure)

    def prompt_state(self, prompt_id: str) -> PromptState:
        """pending | running | completed | failed | unknown, from /api/jobs or else /queue + /history."""
        if self._jobs_route is not False:
            try:
                info = self.job(prompt_id)
            except UnsupportedEndpoint:
                self._jobs_route = False
                log.info("%s has no /api/jobs; polling /queue and /history instead", self.name)
            else:
                self._jobs_route = True
                if info is None:
                    return PromptState.UNKNOWN
                state = _JOB_STATES.get(info.status)
                if state is not None:
                    return state
                log.warning("%s: unknown job status %r; asking /queue and /history", self.name, info.status)
        return self._state_from_queue_and_history(prompt_id)

    def _state_from_queue_and_history(self, prompt_id: str) -> PromptState:
        # Queue first, history second: a prompt finishing in between is then seen in history.
        snapshot = self.queue()
        if any(item.prompt_id == prompt_id for item in snapshot.running):
            return PromptState.RUNNING
        if any(item.prompt_id == prompt_id for item in snapshot.pending):
            return PromptState.PENDING
        entry = self.history(prompt_id)
        if entry is None:
            return PromptState.UNKNOWN
        if entry.failure is not None or entry.status_str == "error":
            return PromptState.FAILED
        return PromptState.COMPLETED

    def download(self, f: Any, dest_dir: Path, dest_name: Optional[str] = None,
                 max_bytes: Optional[int] = None) -> Path:
        """GET /view into `dest_dir` (streamed to a temp file, then renamed); never outside dest_dir.

        `dest_name` replaces the server's subfolder/filename; either way the name is sanitised.
        `max_bytes` caps the file as written (decoded: a gzip-encoded answer cannot grow past it).
        """
        dest = Path(dest_dir)
        if dest_name is not None:
            target = safe_join(dest, "", dest_name)
        else:
            target = safe_join(dest, str(f.subfolder or ""), str(f.filename))
        params = {"filename": str(f.filename), "subfolder": str(f.subfolder or ""),
                  "type": str(f.type or "output")}
        response, call = self._open("GET", "/view", params=params)
        try:
            if response.status_code == 404:
                call.read_body(response)  # a short text: read, so the connection is kept alive
                raise ComfyError(f"{f.type}/{f.subfolder}/{f.filename} is not on {self.base_url} any more; "
                                 "render the frame again", self.name)
            if response.status_code >= 300:
                call.read_body(response)  # a short error text to quote
            self._raise_for_status(response, "GET /view")
            body = call.iter_body(response)
            if max_bytes is not None:
                body = capped(body, max_bytes, lambda: ProtocolError(
                    f"GET /view: {self.base_url} sent more than {max_bytes >> 20} MB for {f.filename!r} (decoded), "
                    "more than a result may be; raise max_result_mb in the settings if your workflows make files "
                    "that large", self.name))
            write_atomically(target, body)
        finally:
            response.close()
            call.done()
        return target

    # -- uploads ---------------------------------------------------------------------------------------
    def upload_image(self, data: bytes, name: str, *, subfolder: str = "", kind: str = "input",
                     overwrite: bool = False) -> UploadedFile:
        """POST /upload/image. Use the returned name: the server may rename a clashing file."""
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        fields = {"type": kind, "subfolder": subfolder, "overwrite": "true" if overwrite else "false"}
        response = self._send("POST", "/upload/image", files={"image": (name, data, mime)}, data=fields)
        self._raise_for_status(response, "POST /upload/image")
        body = self._json_dict(response, "POST /upload/image")
        returned = body.get("name")
        if not isinstance(returned, str) or not returned:
            raise self._protocol("POST /upload/image", "no file name in the answer")
        return UploadedFile(name=returned, subfolder=str(body.get("subfolder") or ""),
                            type=str(body.get("type") or kind))

    # -- status and capabilities -----------------------------------------------------------------------
    def system_stats(self) -> SystemStats:
        try:
            return read_system_stats(self._get_json("/system_stats"))
        except BadStats as exc:
            raise self._protocol("GET /system_stats", str(exc)) from None

    def object_info(self) -> Dict[str, Any]:
        """Every node class the server knows: {class_type: {input, output, ...}}."""
        data = self._get_json("/object_info")
        if not data or not all(isinstance(info, dict) for info in data.values()):
            raise self._protocol("GET /object_info", "the answer is not an object of node classes")
        return data

    def features(self) -> Dict[str, Any]:
        return self._get_json("/features")

    def free(self, unload_models: bool = False, free_memory: bool = True) -> None:
        self._checked("POST", "/free", json_body={"unload_models": unload_models, "free_memory": free_memory})


__all__ = ["ComfyClient", "UnsupportedEndpoint", "render_node_errors", "render_validation"]
