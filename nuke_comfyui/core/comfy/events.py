"""`EventStream`: one WebSocket per server on a daemon thread, turned into typed events.

Why a fresh clientId per *connection*: ComfyUI routes per-prompt messages to the socket last
registered under the prompt's client_id, so a second connection with the same id silently steals
the stream. Each (re)connection therefore picks a new uuid4 hex id (`client_id`) and announces it
with `Connected(client_id, reconnect)`; prompts must be submitted with the current id.

Nothing is replayed after a reconnect: on `Connected(reconnect=True)` the consumer reconciles
with `client.prompt_state`. Text frames that are not ComfyUI messages are logged and skipped;
`executing`/`progress` may lack a prompt_id.

Live view (previews.py, node_progress.py, feature_flags.py): every connection first sends the
feature negotiation, so a 0.3.45+ server sends previews with their prompt id (type 4) and answers
with `ServerFeatures`; older servers ignore it. Binary preview frames and `progress_state` are
delivered only while the stream's `LiveInterest` says someone looks; otherwise they are dropped
before any parsing (a binary frame by its opcode alone).

Cost: a real server sends about ten `progress_state` frames per prompt, and custom nodes add
monitor messages several times a second. `frame_type` reads the type from the frame's first
bytes (ComfyUI writes `{"type": ...` first), so a frame of a type nobody uses is dropped without
JSON parsing; a stream can be narrowed further with `kinds`. The pseudo-kind `prompt_done` asks
for the one `executing` frame per prompt that ends it (node null) and not the one per node, which
is most of a prompt's frames: a frame with no `null` in it cannot be that one and is dropped
unparsed. UTF-8 is checked by the JSON decoder (a bad frame is skipped), not a second time in
pure Python by websocket-client, and frames are read by a lean reader (ws_frames.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import threading
import uuid
from typing import Any, Callable, Collection, Dict, Optional, Union

import websocket

from nuke_comfyui.core.comfy import connection
from nuke_comfyui.core.comfy.event_types import (
    ComfyEvent,
    Connected,
    Disconnected,
    Executed,
    Executing,
    ExecutionCached,
    ExecutionFailed,
    ExecutionStart,
    ExecutionSuccess,
    Progress,
    PromptDone,
    QueueStatus,
)
from nuke_comfyui.core.comfy.feature_flags import negotiation_message, server_features
from nuke_comfyui.core.comfy.live_interest import LiveInterest
from nuke_comfyui.core.comfy.node_progress import parse_progress_state
from nuke_comfyui.core.comfy.outputs import failure_from_error, failure_from_interrupt
from nuke_comfyui.core.comfy.previews import PreviewReader
from nuke_comfyui.core.comfy.ws_connect import open_websocket
from nuke_comfyui.core.comfy.ws_frames import GulpingWebSocket
from nuke_comfyui.core.errors import ConfigError

log = logging.getLogger(__name__)


class _Garbage(ValueError):
    """A text frame that is not a ComfyUI message of a shape we know."""


#: every message type `_event` turns into an event; anything else is dropped before parsing
KNOWN_TYPES = frozenset({"status", "execution_start", "execution_cached", "executing", "progress", "executed",
                         "execution_success", "execution_error", "execution_interrupted", "feature_flags",
                         "progress_state"})
#: delivered only to a stream that names them in `kinds` (several per prompt, rarely read)
ON_REQUEST = frozenset({"progress_state"})
#: delivered whatever `kinds` says (the negotiation's answer: once per connection)
ALWAYS = frozenset({"feature_flags"})
_HEADS = (b'{"type": "', b'{"type":"')
#: a `kinds` entry: the `executing` frames that end a prompt (PromptDone), not the per-node ones
PROMPT_DONE = "prompt_done"


def frame_type(text: Union[str, bytes]) -> Optional[str]:
    """The message type read off the frame's first bytes, or None when it does not start that way.

    No JSON parsing: ComfyUI serialises `{"type": ..., "data": ...}` with the type first. A frame
    laid out otherwise (None here) is simply parsed in full.
    """
    head = text[:64].encode("utf-8", "replace") if isinstance(text, str) else bytes(text[:64])
    for prefix in _HEADS:
        if head.startswith(prefix):
            end = head.find(b'"', len(prefix))
            if end < 0:
                return None
            kind = head[len(prefix):end]
            return None if b"\\" in kind else kind.decode("ascii", "replace")
    return None


def parse_message(text: Union[str, bytes], kinds: Optional[Collection[str]] = None) -> Optional[ComfyEvent]:
    """One text frame as an event; None for messages we do not use or cannot read (logged).

    `kinds`, when given, narrows the message types turned into events (others return None);
    `PROMPT_DONE` among them, without `executing`, asks for the frames that end a prompt only.
    """
    done_only = kinds is not None and PROMPT_DONE in kinds and "executing" not in kinds
    kind = frame_type(text)
    if kind is not None:
        if kind not in KNOWN_TYPES:
            return None  # custom nodes' messages and the like: not parsed at all
        if kind == "executing" and done_only:
            if not _may_end_prompt(text):
                return None  # `executing` of one node: only the one with node null ends a prompt
        elif (kind not in kinds if kinds is not None else kind in ON_REQUEST) and kind not in ALWAYS:
            return None
    try:
        message = json.loads(text)
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise _Garbage("not an object with a type")
        data = message.get("data", {})
        if not isinstance(data, dict):
            raise _Garbage("data is not an object")
        mtype = message["type"]
        if (mtype not in kinds if kinds is not None else mtype in ON_REQUEST) and mtype not in ALWAYS \
                and not (done_only and mtype == "executing"):
            return None
        event = _event(mtype, data)
        return None if done_only and isinstance(event, Executing) else event
    except (ValueError, UnicodeDecodeError) as exc:
        log.warning("skipping an unreadable WebSocket frame (%s): %.120r", exc, text)
        return None


def _may_end_prompt(text: Union[str, bytes]) -> bool:
    """Could this `executing` frame be the one with node null? (Without a `null`, it cannot.)"""
    return "null" in text if isinstance(text, str) else b"null" in text


def _event(kind: str, data: Dict[str, Any]) -> Optional[ComfyEvent]:
    pid = _opt_str(data.get("prompt_id"))
    if kind == "status":
        remaining = _dig(data, "status", "exec_info", "queue_remaining")
        return QueueStatus(int(_number(remaining))) if remaining is not None else None
    if kind == "execution_start":
        return ExecutionStart(pid, _stamp(data))
    if kind == "execution_cached":
        nodes = data.get("nodes", [])
        if not isinstance(nodes, list):
            raise _Garbage("execution_cached nodes is not a list")
        return ExecutionCached(pid, [str(n) for n in nodes])
    if kind == "executing":
        node = _opt_str(data.get("node"))
        if node is None and pid is not None:
            return PromptDone(pid)
        return Executing(pid, node)
    if kind == "progress":
        return Progress(pid, _opt_str(data.get("node")), _number(data.get("value")), _number(data.get("max")))
    if kind == "executed":
        output = data.get("output") or {}
        if not isinstance(output, dict):
            raise _Garbage("executed output is not an object")
        return Executed(pid, _opt_str(data.get("node")), output)
    if kind == "execution_success":
        return ExecutionSuccess(pid, _stamp(data))
    if kind == "execution_error":
        return ExecutionFailed(pid, failure_from_error(data), _stamp(data))
    if kind == "execution_interrupted":
        return ExecutionFailed(pid, failure_from_interrupt(data), _stamp(data))
    if kind == "progress_state":
        return parse_progress_state(data)
    if kind == "feature_flags":
        return server_features(data)
    return None  # custom nodes' messages: not ours to use


def _opt_str(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Garbage(f"expected a number, got {value!r}")
    return float(value)


def _stamp(data: Dict[str, Any]) -> Optional[int]:
    value = data.get("timestamp")
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


class EventStream:
    """A server's WebSocket on a daemon thread; `on_event` is called from that thread.

    `kinds`: the ComfyUI message types to deliver (default: every type `parse_message` knows);
    Connected/Disconnected are always delivered. `interest`: while it says someone looks,
    `progress_state` (as `NodeProgress`) and previews (as `Preview`) are delivered too.
    """

    def __init__(
        self,
        server: Any,
        on_event: Callable[[Any], None],
        *,
        connect_timeout: float = 3.0,
        backoff_start: float = 0.1,
        backoff_cap: float = 5.0,
        poll_interval: float = 0.5,
        kinds: Optional[Collection[str]] = None,
        interest: Optional[LiveInterest] = None,
    ) -> None:
        self.server = server
        self._kinds = frozenset(kinds) if kinds is not None else None
        self._live_kinds = frozenset(KNOWN_TYPES if kinds is None else kinds) | ON_REQUEST
        self._interest = interest
        self.name = connection.server_name(server)
        self._on_event = on_event
        self._connect_timeout = connect_timeout
        self._backoff_start = backoff_start
        self._backoff_cap = backoff_cap
        self._poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._ws: Optional[websocket.WebSocket] = None
        self._ws_lock = threading.Lock()
        self._client_id = uuid.uuid4().hex
        self._connected = False
        self.connections = 0  # successful handshakes so far
        self._previews = PreviewReader(self.name)

    @property
    def client_id(self) -> str:
        """The clientId of the current (or next) connection: submit prompts with it."""
        return self._client_id

    @property
    def connected(self) -> bool:
        return self._connected

    def start(self) -> EventStream:
        if self._thread is None:
            self._stop.clear()
            name = f"nuke-comfyui-ws-{self.name}"
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close the socket at once and wait for the thread (prompt even mid-recv)."""
        self._stop.set()
        self._abort_socket()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def __enter__(self) -> EventStream:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- the thread --------------------------------------------------------------------------------
    def _run(self) -> None:
        delay = self._backoff_start
        while not self._stop.is_set():
            ws = self._connect()
            if ws is None:
                self._stop.wait(delay)
                delay = min(delay * 2, self._backoff_cap)
                continue
            delay = self._backoff_start
            reason = self._receive(ws)
            self._close(ws)
            self._connected = False
            self._emit(Disconnected("stopped" if self._stop.is_set() else reason))
            if not self._stop.is_set():
                self._stop.wait(delay)

    def _connect(self) -> Optional[websocket.WebSocket]:
        client_id = uuid.uuid4().hex
        self._client_id = client_id
        try:  # checked like every transport's headers (connection.py): no line break reaches the upgrade
            headers = [f"{k}: {v}" for k, v in connection.auth_headers(self.server).items()]
        except ConfigError as exc:
            log.error("%s: event stream not opened: %s", self.name, exc)
            self._stop.set()  # a settings problem: retrying cannot help
            return None
        sslopt = {} if connection.verify_tls(self.server) else {"cert_reqs": ssl.CERT_NONE,
                                                                 "check_hostname": False}
        url = connection.websocket_url(self.server, client_id)
        try:  # bounded in total, handshake included (ws_connect.py)
            ws = open_websocket(url, timeout=self._connect_timeout, header=headers,
                                suppress_origin=True, sslopt=sslopt,
                                http_proxy_host=None, enable_multithread=True,
                                skip_utf8_validation=True, class_=GulpingWebSocket)
        except (OSError, websocket.WebSocketException) as exc:
            log.debug("%s: WebSocket connect failed: %s", self.name, exc)
            return None
        with self._ws_lock:
            stopping = self._stop.is_set()
            if not stopping:
                self._ws = ws
        if stopping:  # closed outside the lock: _close takes it too (it is not reentrant)
            self._close(ws)
            return None
        ws.settimeout(self._poll_interval)
        with contextlib.suppress(OSError, websocket.WebSocketException):  # a dead socket shows in _receive
            ws.send(negotiation_message())  # must be the connection's first message; old servers ignore it
        reconnect = self.connections > 0
        self.connections += 1
        self._connected = True
        log.info("%s: event stream %s (clientId %s)", self.name, "reconnected" if reconnect else "connected",
                 client_id)
        self._emit(Connected(client_id, reconnect))
        return ws

    def _receive(self, ws: websocket.WebSocket) -> str:
        """Read frames until the connection ends; returns why it ended."""
        interest = self._interest
        while not self._stop.is_set():
            try:
                opcode, payload = ws.recv_data()
            except websocket.WebSocketTimeoutException:
                continue  # idle: no message for a while is normal during a long node
            except websocket.WebSocketConnectionClosedException:
                return "connection closed by the server"
            except (OSError, websocket.WebSocketException) as exc:
                return f"connection lost: {exc}"
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return "connection closed by the server"
            if opcode != websocket.ABNF.OPCODE_TEXT:
                if interest is not None and interest.previews and opcode == websocket.ABNF.OPCODE_BINARY:
                    preview = self._previews.read(payload)
                    if preview is not None:
                        self._emit(preview)
                continue  # nobody looks: dropped by its opcode alone
            live = interest is not None and interest.progress
            event = parse_message(payload, self._live_kinds if live else self._kinds)
            if event is not None:
                self._emit(event)
        return "stopped"

    def _emit(self, event: Any) -> None:
        try:
            self._on_event(event)
        except Exception:  # a consumer bug must not kill the stream for every other prompt
            log.exception("%s: event handler failed on %s", self.name, type(event).__name__)

    def _abort_socket(self) -> None:
        with self._ws_lock:
            ws = self._ws
        if ws is None:
            return
        sock = getattr(ws, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _close(self, ws: websocket.WebSocket) -> None:
        with self._ws_lock:
            if self._ws is ws:
                self._ws = None
        with contextlib.suppress(OSError, websocket.WebSocketException):
            ws.shutdown()
