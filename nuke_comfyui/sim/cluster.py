"""`SimCluster`: N simulated ComfyUI servers on one background thread, for tests, demo and benchmarks.

Tests, the demo and the benchmark all need a realistic farm that starts in milliseconds and can
be made to misbehave on cue. Every server runs on one private asyncio loop in a daemon thread;
the control methods here are thread-safe (they hop onto that loop and wait).

    with SimCluster(3, base_dir=tmp, speeds=[1, 1, 2], crash_after=[None, 2, None]) as cluster:
        cluster.urls          # ["http://127.0.0.1:41234", ...]
        cluster.servers[1].crash(); cluster.servers[1].restart()

Per-server options take one value for all servers or a list with one value per server;
`comfy_version="0.3.40"` (or a list) picks the ComfyUI release each server behaves like;
`previews="latent2rgb"` (or "taesd", or a list) makes samplers send a live preview every
`preview_every` steps, as a server started with `--preview-method` does (sim/previews.py).
`port=0` picks free ports (not necessarily consecutive); port=P uses P..P+N-1.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Awaitable, Callable, List, Optional, Sequence, TypeVar, Union

from nuke_comfyui.sim.previews import preview_method
from nuke_comfyui.sim.profiles import profiles_per_server
from nuke_comfyui.sim.server import Execution, ServerOptions, SimServer, missing_per_server, per_server
from nuke_comfyui.sim.workload import Workload

T = TypeVar("T")
_TIMEOUT = 30.0


class ServerHandle:
    """Thread-safe remote control of one simulated server."""

    def __init__(self, server: SimServer, call: Callable[[Callable[[], Awaitable[Any]]], Any]) -> None:
        self._server = server
        self._call = call

    @property
    def index(self) -> int:
        return self._server.index

    @property
    def base_dir(self) -> Path:
        """The server's ComfyUI root (input/ output/ temp/)."""
        return self._server.base_dir

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def running(self) -> bool:
        return self._server.running

    @property
    def prompt_count(self) -> int:
        """Prompts accepted (HTTP 200) since the last (re)start."""
        return self._server.prompt_count

    @property
    def executions(self) -> List[Execution]:
        """Prompts executed since the last (re)start, with start/end time.time() stamps."""
        return self._server.executions

    @property
    def executed_ids(self) -> List[str]:
        return self._server.executed_ids

    @property
    def options(self) -> ServerOptions:
        return self._server.options

    def crash(self) -> None:
        """Stop answering at once: close the port and abort every connection without a goodbye."""
        self._call(lambda: self._server.stop(crash=True))

    def stop(self) -> None:
        """Shut down cleanly (WebSockets get a close frame)."""
        self._call(lambda: self._server.stop(crash=False))

    def restart(self) -> None:
        """Come back on the same port with queue/history wiped and files kept (a real restart)."""
        self._call(self._server.restart)

    def start(self) -> None:
        """Start again after stop() without wiping state."""
        self._call(self._server.start)

    def __repr__(self) -> str:
        return f"<SimServer {self.index} {self.url} running={self.running}>"


class SimCluster:
    """A context manager running `count` simulated ComfyUI servers on 127.0.0.1."""

    def __init__(
        self,
        count: int = 3,
        *,
        base_dir: Union[str, Path],
        port: int = 0,
        speeds: Any = None,
        vram_gb: Any = None,
        fail_rate: Any = None,
        crash_after: Any = None,
        hang_after: Any = None,
        drop_ws_after: Any = None,
        missing_nodes: Any = None,
        seconds_per_step: Any = 0.01,
        comfy_version: Any = None,
        workload: Any = None,
        previews: Any = None,
        preview_every: int = 1,
    ) -> None:
        if count < 1:
            raise ValueError("SimCluster needs at least one server (count >= 1)")
        self.count = count
        self.base_dir = Path(base_dir)
        speeds_l = per_server(speeds if speeds is not None else 1.0, count, "speeds")
        vram_l = per_server(vram_gb, count, "vram_gb")
        fail_l = per_server(fail_rate if fail_rate is not None else 0.0, count, "fail_rate")
        crash_l = per_server(crash_after, count, "crash_after")
        hang_l = per_server(hang_after, count, "hang_after")
        drop_l = per_server(drop_ws_after, count, "drop_ws_after")
        step_l = per_server(seconds_per_step, count, "seconds_per_step")
        missing_l = missing_per_server(missing_nodes, count)
        profile_l = profiles_per_server(comfy_version, count)
        workload_l = per_server(workload, count, "workload")
        previews_l = per_server(previews, count, "previews")
        if int(preview_every) < 1:
            raise ValueError(f"preview_every: {preview_every} steps; give 1 or more")
        self._servers: List[SimServer] = []
        for i in range(count):
            if float(speeds_l[i]) <= 0:
                raise ValueError(f"speeds: server {i} has speed {speeds_l[i]}; speeds must be > 0")
            options = ServerOptions(
                speed=float(speeds_l[i]),
                vram_gb=None if vram_l[i] is None else float(vram_l[i]),
                fail_rate=float(fail_l[i] or 0.0),
                crash_after=None if crash_l[i] is None else int(crash_l[i]),
                hang_after=None if hang_l[i] is None else int(hang_l[i]),
                drop_ws_after=None if drop_l[i] is None else int(drop_l[i]),
                missing_nodes=missing_l[i],
                seconds_per_step=float(step_l[i]),
                profile=profile_l[i],
                workload=workload_l[i] or Workload(),
                previews=preview_method(previews_l[i]),
                preview_every=int(preview_every),
            )
            server_port = 0 if port == 0 else port + i
            self._servers.append(SimServer(i, self.base_dir / f"server{i}", server_port, options))
        self.servers: List[ServerHandle] = [ServerHandle(s, self._call) for s in self._servers]
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None

    # -- thread plumbing -------------------------------------------------------------------------
    def _call(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the cluster loop and wait for it (safe from any other thread)."""
        if self._loop is None:
            raise RuntimeError("SimCluster is not started; use it as a context manager or call start()")

        async def runner() -> T:
            return await factory()

        future = asyncio.run_coroutine_threadsafe(runner(), self._loop)
        return future.result(_TIMEOUT)

    def _run_loop(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> SimCluster:
        """Start every server; returns once all are bound and serving."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run_loop, args=(ready,), name="sim-cluster", daemon=True)
        self._thread.start()
        ready.wait(_TIMEOUT)

        async def start_all() -> None:
            for server in self._servers:
                await server.start()

        try:
            self._call(start_all)
        except OSError:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every server and the loop thread."""
        if self._loop is None or self._thread is None:
            return

        async def stop_all() -> None:
            for server in self._servers:
                await server.stop(crash=False)

        try:
            self._call(stop_all)
        finally:
            for server in self._servers:
                server.pool.shutdown(wait=False)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(_TIMEOUT)
            self._loop = None
            self._thread = None

    def __enter__(self) -> SimCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- views ----------------------------------------------------------------------------------------
    @property
    def urls(self) -> List[str]:
        return [s.url for s in self._servers]

    @property
    def ports(self) -> List[int]:
        return [s.port for s in self._servers]

    @property
    def prompt_count(self) -> int:
        """Prompts accepted by all servers together."""
        return sum(s.prompt_count for s in self._servers)

    def server_for(self, url_or_port: Union[str, int]) -> ServerHandle:
        """The handle of the server at a URL or port."""
        for handle in self.servers:
            if url_or_port in (handle.url, handle.port, handle.url + "/"):
                return handle
        raise KeyError(f"no simulated server at {url_or_port}; known: {', '.join(self.urls)}")

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Any:
        return iter(self.servers)

    def __repr__(self) -> str:
        return f"<SimCluster {self.urls}>"


def start_cluster(count: int, base_dir: Union[str, Path], **options: Any) -> SimCluster:
    """Convenience for scripts: a started cluster (call close() when done)."""
    return SimCluster(count, base_dir=base_dir, **options).start()


__all__: Sequence[str] = ["ServerHandle", "SimCluster", "start_cluster"]
