"""One simulated ComfyUI 0.8 server: aiohttp routes, WebSocket routing, the worker and the faults.

It speaks the protocol closely enough that a client written against it works against a real
ComfyUI unchanged (shapes from the recorded captures). Every route is also served under /api/.
All state is touched only on the event loop that runs the server; `SimCluster` calls in from
other threads with `run_coroutine_threadsafe`.

Faults (all deterministic, counted per server on accepted prompts, 1-based `accept_index`):
- crash_after K: the first prompt with accept_index >= K crashes the server once it starts
  executing (after execution_start, execution_cached and `executing` of the sampler or first
  node): the listening socket closes, every WebSocket and HTTP connection is aborted, nothing is
  written to history. `restart()` brings it back on the same port with empty queue/history.
- hang_after K: prompts with accept_index > K start executing and never finish; an interrupt
  (targeted or bare) ends them with execution_interrupted.
- drop_ws_after K: when a prompt with accept_index a multiple of K starts executing, every open
  WebSocket is closed right after execution_start; the prompt finishes normally.
- fail_rate F: each prompt, in execution order, draws from random.Random(f"sim-fail-{index}");
  below F it ends in execution_error (RuntimeError) at its sampler (or first node).
- vram_gb G: a sampler whose latent needs more than G GB (4 GB per megapixel) fails with
  execution_error exception_type "torch.OutOfMemoryError"; /system_stats then reports a cuda
  device with G GB. Without it the device is "cpu", like the capture.
- missing_nodes: class types absent from object_info and validation.

Version behaviour (prompt ids, interrupt, /api/jobs, the reported version) comes from the
server's `VersionProfile` (sim/profiles.py); the default is the 0.8.0 of the captures.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlparse

from aiohttp import WSMsgType, web

from nuke_comfyui.sim.catalog import Catalog
from nuke_comfyui.sim.executor import CrashNow, Plan, PromptRun
from nuke_comfyui.sim.faults import HttpFaults, renamed_output
from nuke_comfyui.sim.faults import middleware as faults_middleware
from nuke_comfyui.sim.files import Folders
from nuke_comfyui.sim.http_routes import FEATURES, HttpRoutes
from nuke_comfyui.sim.profiles import VersionProfile
from nuke_comfyui.sim.state import PromptQueue, QueueItem
from nuke_comfyui.sim.workload import Workload

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Execution:
    """One prompt this server executed (for idle-gap and distribution measurements)."""

    prompt_id: str
    started: float  # time.time() when it left the queue
    ended: float  # time.time() when its history entry was written
    status: str  # "success" | "error" | "interrupted"
    speed: float = 0.0  # the speed in force when it left the queue (a workload may slow the server)


@dataclass
class ServerOptions:
    """Per-server behaviour (see the module docstring for the fault semantics)."""

    speed: float = 1.0
    vram_gb: Optional[float] = None
    fail_rate: float = 0.0
    crash_after: Optional[int] = None
    hang_after: Optional[int] = None
    drop_ws_after: Optional[int] = None
    missing_nodes: Tuple[str, ...] = ()
    seconds_per_step: float = 0.01
    faults: Optional[HttpFaults] = None  # HTTP faults of a bad server or proxy (sim/faults.py)
    profile: VersionProfile = field(default_factory=VersionProfile.of)
    workload: Workload = field(default_factory=Workload)  # benchmark shapes: slowdown, heavy jobs, lean
    previews: Optional[str] = None  # a preview method (sim/previews.py): "latent2rgb" | "taesd"
    preview_every: int = 1  # sampler steps per preview


class SimServer(HttpRoutes):
    """A ComfyUI look-alike bound to 127.0.0.1:<port> with its own ComfyUI root folder."""

    def __init__(self, index: int, base_dir: Path, port: int, options: ServerOptions) -> None:
        self.index = index
        self.base_dir = Path(base_dir)
        self.port = port
        self.options = options
        self.folders = Folders(self.base_dir)
        self.catalog = Catalog((*options.missing_nodes, *options.profile.missing_nodes()),
                               newer=options.profile.save_image_advanced)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sim{index}")
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._worker: Optional[asyncio.Task] = None
        self._crash_task: Optional[asyncio.Future] = None
        self._wake: Optional[asyncio.Event] = None
        self.interrupt_event: asyncio.Event  # created in start(), on the server's own loop
        self._reset_state()
        self.running = False
        self.crashed = False

    # -- public counters (read from any thread) ------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def speed(self) -> float:
        return self.options.speed

    def current_speed(self) -> float:
        """The speed now: the workload may slow the server down some time after its first prompt."""
        first = self._first_started
        return self.options.workload.speed_at(self.options.speed, None if first is None else time.time() - first)

    @property
    def vram_gb(self) -> Optional[float]:
        return self.options.vram_gb

    @property
    def seconds_per_step(self) -> float:
        return self.options.seconds_per_step

    @property
    def executions(self) -> List[Execution]:
        """Executed prompts in order (copy)."""
        return list(self._executions)

    @property
    def executed_ids(self) -> List[str]:
        return [e.prompt_id for e in self._executions]

    def _reset_state(self) -> None:
        """What a process restart loses: queue, history, cache, counters and ws clients."""
        self.queue = PromptQueue()
        self.cache: Dict[str, Any] = {}
        self.sockets: Dict[str, web.WebSocketResponse] = {}
        self.socket_flags: Dict[str, Dict[str, Any]] = {}  # what each client negotiated (feature_flags)
        self._transports: List[Any] = []
        self.number = 0
        self.prompt_count = 0
        self.last_node_id: Optional[str] = None
        self.current_client: Optional[str] = None
        self._executions: List[Execution] = []
        self._started_at: Dict[str, float] = {}
        self._first_started: Optional[float] = None
        self._fail_rng = random.Random(f"sim-fail-{self.index}")

    # -- lifecycle (event-loop thread) ----------------------------------------------------------
    async def start(self) -> None:
        """Bind and serve (same port again after a crash or stop)."""
        self.loop = asyncio.get_running_loop()
        self.interrupt_event = asyncio.Event()
        self._wake = asyncio.Event()
        app = web.Application(middlewares=[_origin_middleware, faults_middleware(lambda: self.options.faults)],
                              client_max_size=FEATURES["max_upload_size"])  # ComfyUI's limit: 413 above it
        self._add_routes(app)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        server = getattr(site, "_server", None)
        if self.port == 0 and server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        self.running = True
        self.crashed = False
        self._worker = asyncio.ensure_future(self._work())

    async def stop(self, crash: bool = False) -> None:
        """Stop serving; `crash=True` aborts connections without close frames (a dead process)."""
        if not self.running:
            return
        self.running = False
        self.crashed = crash
        if self._worker is not None and self._worker is not asyncio.current_task():
            self._worker.cancel()
        for ws in list(self.sockets.values()):
            if crash:
                _abort(ws)
            else:
                await ws.close()
        if crash:
            for transport in self._transports:
                transport.abort()
        self.sockets.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def restart(self) -> None:
        """Come back on the same port with queue and history wiped; files stay, like a real restart."""
        await self.stop(crash=True)
        self._reset_state()
        await self.start()

    # -- websocket helpers ----------------------------------------------------------------------
    async def send(self, event: str, data: Dict[str, Any], sid: Optional[str] = None) -> None:
        """Send to one client id (if connected) or, with sid None, to everybody."""
        data = renamed_output(self.options.faults, event, data)  # a hostile server's names
        message = json.dumps({"type": event, "data": data})
        targets = (
            list(self.sockets.values()) if sid is None else [self.sockets[sid]] if sid in self.sockets else []
        )
        for ws in targets:
            try:
                await ws.send_str(message)
            except (ConnectionError, RuntimeError) as exc:
                log.debug("ws send failed: %s", exc)

    def queue_info(self) -> Dict[str, Any]:
        return {"exec_info": {"queue_remaining": self.queue.remaining()}}

    async def broadcast_status(self) -> None:
        await self.send("status", {"status": self.queue_info()})

    async def drop_websockets(self) -> None:
        for ws in list(self.sockets.values()):
            await ws.close(code=1001, message=b"sim drop_ws_after")

    # -- worker -----------------------------------------------------------------------------------
    async def _work(self) -> None:
        assert self._wake is not None
        while True:
            item = self.queue.pop()
            if item is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            self.interrupt_event.clear()
            self.current_client = item.client_id
            self._started_at[item.prompt_id] = time.time()
            if self._first_started is None:
                self._first_started = self._started_at[item.prompt_id]
            await self.broadcast_status()
            try:
                await PromptRun(self, item, self._plan(item)).run()
            except CrashNow:
                log.info("sim server %s crashing on prompt %s (crash_after)", self.port, item.prompt_id)
                self._crash_task = asyncio.ensure_future(self.stop(crash=True))
                return
            finally:
                self.current_client = None

    def _plan(self, item: QueueItem) -> Plan:
        opts = self.options
        n = item.accept_index
        fail = opts.fail_rate > 0 and self._fail_rng.random() < opts.fail_rate
        return Plan(
            crash=opts.crash_after is not None and n >= opts.crash_after,
            hang=opts.hang_after is not None and n > opts.hang_after,
            fail=fail,
            drop_ws=bool(opts.drop_ws_after) and n % int(opts.drop_ws_after or 1) == 0,
        )

    def record_execution(self, item: QueueItem, kind: str) -> None:
        started = self._started_at.pop(item.prompt_id, time.time())
        first = self._first_started if self._first_started is not None else started
        speed = self.options.workload.speed_at(self.options.speed, started - first)
        self._executions.append(Execution(item.prompt_id, started, time.time(), kind, speed))

    # -- routes -----------------------------------------------------------------------------------
    def _add_routes(self, app: web.Application) -> None:
        routes = [
            ("GET", "/ws", self.h_ws),
            ("POST", "/prompt", self.h_post_prompt),
            ("GET", "/prompt", self.h_get_prompt),
            ("GET", "/queue", self.h_get_queue),
            ("POST", "/queue", self.h_post_queue),
            ("GET", "/history", self.h_get_history),
            ("GET", "/history/{prompt_id}", self.h_get_history_id),
            ("POST", "/history", self.h_post_history),
            ("GET", "/jobs", self.h_jobs),
            ("GET", "/jobs/{job_id}", self.h_job),
            ("GET", "/view", self.h_view),
            ("POST", "/upload/image", self.h_upload),
            ("POST", "/interrupt", self.h_interrupt),
            ("POST", "/free", self.h_free),
            ("GET", "/system_stats", self.h_system_stats),
            ("GET", "/object_info", self.h_object_info),
            ("GET", "/object_info/{node_class}", self.h_object_info_one),
            ("GET", "/features", self.h_features),
            ("GET", "/embeddings", self.h_empty_list),
            ("GET", "/extensions", self.h_empty_list),
        ]
        for method, path, handler in routes:
            if path.startswith("/jobs"):
                if not self.options.profile.jobs_api:
                    continue  # added in ComfyUI 0.7.0: older servers answer 404
                app.router.add_route(method, "/api" + path, handler)
                continue
            app.router.add_route(method, path, handler)
            app.router.add_route(method, "/api" + path, handler)

    async def h_ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        sid = request.query.get("clientId", "")
        if not sid:
            sid = uuid.uuid4().hex
        self.sockets.pop(sid, None)
        self.socket_flags.pop(sid, None)  # like ComfyUI: a new connection negotiates afresh
        self.sockets[sid] = ws
        if request.transport is not None:
            self._transports.append(request.transport)
        try:
            await self.send("status", {"status": self.queue_info(), "sid": sid}, sid)
            if self.current_client == sid and self.last_node_id is not None:
                await self.send("executing", {"node": self.last_node_id}, sid)
            first = True
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                if first and isinstance(data, dict) and data.get("type") == "feature_flags" \
                        and self.options.profile.feature_flags:
                    flags = data.get("data")
                    self.socket_flags[sid] = flags if isinstance(flags, dict) else {}
                    await self.send("feature_flags", FEATURES, sid)
                first = False
        finally:
            # Only our own registration: a newer socket with this clientId keeps the stream
            # (ComfyUI pops unconditionally, which races with a fast reconnect; the orphaned-first-
            # socket behaviour of the captures is the same either way).
            if self.sockets.get(sid) is ws:
                del self.sockets[sid]
                self.socket_flags.pop(sid, None)
            if request.transport in self._transports:
                self._transports.remove(request.transport)
        return ws

def _abort(ws: web.WebSocketResponse) -> None:
    """Drop a socket without a close frame, as a dying process does."""
    writer = getattr(ws, "_writer", None)
    transport = getattr(writer, "transport", None) if writer is not None else None
    if transport is not None:
        transport.abort()


@web.middleware
async def _origin_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """ComfyUI's check: an Origin whose host differs from Host gets 403 with an empty body."""
    origin = request.headers.get("Origin")
    host = request.headers.get("Host")
    if origin and host:
        parsed = urlparse(origin)
        if parsed.netloc.lower() != host.lower():
            return web.Response(status=403)
    return await handler(request)


def missing_per_server(value: Any, count: int) -> List[Tuple[str, ...]]:
    """missing_nodes: None, "A+B" or a set of names (all servers), or a list with one entry per server."""
    if isinstance(value, (list, tuple)):
        return [as_names(v) for v in per_server(value, count, "missing_nodes")]
    return [as_names(value)] * count


def per_server(value: Any, count: int, name: str) -> List[Any]:
    """Expand a single value or a list into one value per server (ValueError names the option)."""
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(
                f"{name}: {len(value)} values for {count} servers; give one value or one per server"
            )
        return list(value)
    return [value] * count


def as_names(value: Any) -> Tuple[str, ...]:
    """One server's missing_nodes entry: None, "A+B" or an iterable of class names."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split("+") if v.strip())
    items: Iterable[Any] = value
    return tuple(str(v) for v in items)
