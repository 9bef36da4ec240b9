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

Thread safety: one `requests.Session` per client, shared by the scheduler's worker threads.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import requests
from requests.adapters import HTTPAdapter

from nuke_comfyui.core import redact
from nuke_comfyui.core.comfy import connection, http, prompt_marks
from nuke_comfyui.core.comfy.outputs import (
    failure_from_error,
    failure_from_messages,
    message_timestamp,
    output_files,
    safe_join,
    write_atomically,
)
from nuke_comfyui.core.comfy.types import (
    Device,
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
from nuke_comfyui.core.errors import (
    AuthError,
    ComfyError,
    PromptValidationError,
    ProtocolError,
    ServerError,
    ServerUnavailable,
)

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


class ComfyClient:
    """Every HTTP call to one ComfyUI server (see ARCHITECTURE.md, Client)."""

    def __init__(
        self,
        server: Any,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.2,
        session: Optional[requests.Session] = None,
    ) -> None:
        self.server = server
        self.name = connection.server_name(server)
        self.base_url = connection.base_url(server)
        self.timeout = (connect_timeout, read_timeout)
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self._jobs_route: Optional[bool] = None  # None = not tried yet; False = old server, use history
        # Passed on every request: a session-level False would lose to REQUESTS_CA_BUNDLE.
        self._verify = connection.verify_tls(server)
        self._session = session or self._new_session()

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.pop("Origin", None)  # ComfyUI 403s an Origin that does not match Host
        session.headers.update(connection.auth_headers(self.server))
        self._verify = environment_once(session, self.base_url, self._verify)
        return session

    def __repr__(self) -> str:
        return f"ComfyClient({self.name!r}, {self.base_url!r})"

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        self._session.close()

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
        if not isinstance(returned, str) or not _is_number(number):
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

    def _validation_error(self, response: requests.Response) -> PromptValidationError:
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
        value = _get_path(data, ("exec_info", "queue_remaining"))
        if not _is_number(value):
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
            if not isinstance(entry, list) or len(entry) < 2 or not _is_number(entry[0]) \
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
            body = _try_json(response)
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

    def download(self, f: Any, dest_dir: Path, dest_name: Optional[str] = None) -> Path:
        """GET /view into `dest_dir` (streamed to a temp file, then renamed); never outside dest_dir.

        `dest_name` replaces the server's subfolder/filename; either way the name is sanitised.
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
                raise ComfyError(f"{f.type}/{f.subfolder}/{f.filename} is not on {self.base_url} any more; "
                                 "render the frame again", self.name)
            if response.status_code >= 300:
                call.read_body(response)  # a short error text to quote
            self._raise_for_status(response, "GET /view")
            write_atomically(target, call.iter_body(response))
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
        data = self._get_json("/system_stats")
        system = data.get("system")
        if not isinstance(system, dict):
            raise self._protocol("GET /system_stats", "the answer has no system object")
        raw_devices = data.get("devices", [])
        if not isinstance(raw_devices, list):
            raise self._protocol("GET /system_stats", "devices is not a list")
        devices = [self._device(d) for d in raw_devices]
        version = system.get("comfyui_version")
        os_name = system.get("os")
        return SystemStats(
            comfyui_version=str(version) if version is not None else None,
            os=str(os_name) if os_name is not None else None,
            devices=devices,
            cpu_only=all(d.type == "cpu" for d in devices),
        )

    def _device(self, raw: Any) -> Device:
        if not isinstance(raw, dict):
            raise self._protocol("GET /system_stats", "a device is not an object")
        total, free = raw.get("vram_total", 0), raw.get("vram_free", 0)
        if not (_is_number(total) and _is_number(free)):
            raise self._protocol("GET /system_stats", "vram_total/vram_free are not numbers")
        return Device(name=str(raw.get("name", "")), type=str(raw.get("type", "")),
                      vram_total=int(total), vram_free=int(free))

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

    # -- transport -------------------------------------------------------------------------------------
    def _get_json(self, path: str) -> Dict[str, Any]:
        response = self._send("GET", path)
        self._raise_for_status(response, f"GET {path}")
        return self._json_dict(response, f"GET {path}")

    def _checked(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._send(method, path, **kwargs)
        self._raise_for_status(response, f"{method} {path}")
        return response

    def _send(self, method: str, path: str, *, json_body: Any = None, retry: bool = True,
              **kwargs: Any) -> requests.Response:
        """One request with its whole (capped) body read; connection errors retried when `retry`."""
        response, call = self._open(method, path, json_body=json_body, retry=retry, **kwargs)
        call.read_body(response)
        return response

    def _open(self, method: str, path: str, *, json_body: Any = None, retry: bool = True,
              **kwargs: Any) -> Tuple[requests.Response, http.Call]:
        """Send a request and return once the headers are in; the body is read through the Call,
        which holds the route's total deadline and size cap (see core/comfy/http.py)."""
        url = self.base_url + path
        what = f"{method} {path}"
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            call = http.Call(what, self.base_url, self.name, http.limits_for(path))
            timeout = (self.timeout[0], call.read_timeout(self.timeout[1]))
            try:
                response = self._session.request(method, url, json=json_body, timeout=timeout, stream=True,
                                                 verify=self._verify, allow_redirects=False, **kwargs)
            except requests.exceptions.ReadTimeout as exc:
                raise ServerUnavailable(f"{what} got no answer from {self.base_url} within "
                                        f"{timeout[1]:g} s; the server may be overloaded or hung",
                                        self.name) from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.ConnectTimeout) as exc:
                if attempt + 1 >= attempts:
                    reason = _connection_reason(exc)
                    raise ServerUnavailable(f"cannot reach {self.base_url} ({reason}); check that ComfyUI "
                                            "runs there and the host/port are right", self.name) from exc
                time.sleep(self.backoff * (2 ** attempt))
                continue
            except requests.RequestException as exc:
                raise ProtocolError(f"{what} failed: {_short(exc)}", self.name) from exc
            call.watch(response)
            return response, call
        raise AssertionError("unreachable")

    def _raise_for_status(self, response: requests.Response, what: str) -> None:
        code = response.status_code
        if code < 300:
            return
        if code in (401, 403):
            hint = ("check the server's auth settings (token/user/password)" if response.content
                    else "a proxy or ComfyUI's Origin check refused us; check auth and that the "
                    "proxy keeps the Host header")
            raise AuthError(f"{what} refused with HTTP {code}; {hint}", self.name)
        text = _excerpt(response)
        if code >= 500:
            raise ServerError(f"{what} failed on the server with HTTP {code}: {text or '(empty body)'}; "
                              "see the ComfyUI console for details", self.name, status=code)
        raise ProtocolError(f"{what} answered HTTP {code}: {text or '(empty body)'}; is {self.base_url} "
                            "really a ComfyUI server?", self.name)

    def _json_dict(self, response: requests.Response, what: str) -> Dict[str, Any]:
        body = _try_json(response)
        if not isinstance(body, dict):
            got = _excerpt(response) or "(empty body)"
            raise self._protocol(what, f"expected a JSON object, got {got!r}")
        return body

    def _protocol(self, what: str, problem: str) -> ProtocolError:
        return ProtocolError(f"{what}: {problem}; is {self.base_url} really a ComfyUI server (or a proxy "
                             "answering for it)?", self.name)


def environment_once(session: requests.Session, base_url: str, verify: Any) -> Any:
    """Read the environment's proxy and CA-bundle variables and ~/.netrc once, for this server.

    Why: with `trust_env` on, requests reads all of them again on every call (a third of its cost
    per call against a near-instant server). They are per host, and this client talks to one
    host, so the answers are fixed here: the session's proxies and netrc auth are set, `trust_env`
    turned off, and the `verify` to pass on every call is returned (a CA bundle from
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE when verification is on, as requests would pick).
    """
    settings = session.merge_environment_settings(base_url, {}, None, verify, None)
    session.proxies.update(settings.get("proxies") or {})
    netrc = requests.utils.get_netrc_auth(base_url)
    if netrc and session.auth is None:
        session.auth = netrc
    session.trust_env = False
    return settings.get("verify", verify)


def render_validation(error: Dict[str, Any], node_errors: Dict[str, Any]) -> str:
    """ComfyUI's 400 as readable text: the error message, then one line per node and input."""
    message = str(error.get("message") or "the prompt is invalid").strip()
    details = str(error.get("details") or "").strip()
    head = f"{message}: {details}" if details and not node_errors else message
    lines = render_node_errors(node_errors)
    return head + ("\n" + lines if lines else "")


def render_node_errors(node_errors: Dict[str, Any]) -> str:
    """`node 1 (LoadImage) input image: Invalid image file: nope.png`, one line per error."""
    lines: List[str] = []
    for node_id, node in node_errors.items():
        if not isinstance(node, dict):
            lines.append(f"node {node_id}: {node}")
            continue
        class_type = node.get("class_type")
        where = f"node {node_id} ({class_type})" if class_type else f"node {node_id}"
        errors = node.get("errors")
        for err in errors if isinstance(errors, list) else []:
            lines.append(_render_one(where, err))
    return "\n".join(lines)


def _render_one(where: str, err: Any) -> str:
    if not isinstance(err, dict):
        return f"{where}: {err}"
    extra = err.get("extra_info")
    input_name = extra.get("input_name") if isinstance(extra, dict) else None
    message = str(err.get("message") or "").strip()
    details = str(err.get("details") or "").strip()
    if input_name and details.startswith(f"{input_name} - "):
        details = details[len(input_name) + 3:]
    if input_name and details == input_name:
        details = ""
    text = details or message or "invalid"
    if details and message and details != message and not input_name:
        text = f"{message}: {details}"
    return f"{where} input {input_name}: {text}" if input_name else f"{where}: {text}"


def _try_json(response: requests.Response) -> Any:
    try:
        return json.loads(response.content or b"")
    except ValueError:
        return None


def _excerpt(response: requests.Response) -> str:
    """The start of a server's body for a message: cut short, and with every secret masked."""
    try:
        text = response.content.decode("utf-8", "replace")
    except (requests.RequestException, AttributeError):
        return ""
    return redact.excerpt(text)


def _connection_reason(exc: BaseException) -> str:
    """A short human reason instead of urllib3's nested exception text."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timed out"
    for needle, reason in (("refused", "connection refused"), ("reset", "connection reset"),
                           ("Name or service not known", "unknown host name"),
                           ("getaddrinfo", "unknown host name"),
                           ("RemoteDisconnected", "connection closed without an answer"),
                           ("aborted", "connection closed without an answer"),
                           ("timed out", "timed out")):
        if needle in text:
            return reason
    return type(exc).__name__


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:160] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _get_path(data: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


