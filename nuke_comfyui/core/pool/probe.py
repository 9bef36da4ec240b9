"""One health probe of one server: turns client answers and client errors into a ServerStatus.

The cheap probe is `GET /queue` (~2 ms on a real server): it splits running from pending and lists
prompt ids, so the pool can tell other artists' jobs from ours. `/system_stats` (VRAM, version)
changes slowly and is asked less often; its last answer is carried over between full probes.
"""

from __future__ import annotations

import time
from typing import Any, Container, Optional, Tuple

from nuke_comfyui.core.errors import AuthError, ComfyError, ServerBusy, ServerUnavailable
from nuke_comfyui.core.pool.status import ServerState, ServerStatus


def probe(
    client: Any,
    name: str,
    url: str,
    *,
    with_stats: bool,
    previous: Optional[ServerStatus] = None,
    ours: Container[str] = (),
) -> Tuple[ServerStatus, int]:
    """Probe once. Returns the status and how many queued jobs on the server are NOT ours."""
    started = time.perf_counter()
    try:
        queue = client.queue()
        latency_ms = (time.perf_counter() - started) * 1000.0
        stats = client.system_stats() if with_stats or previous is None or previous.comfyui_version is None \
            else None
    except ServerBusy as exc:  # answering, but asking us to come back later: not "unreachable"
        return _failed(name, url, ServerState.OFFLINE, _reason(exc)), 0
    except ServerUnavailable as exc:
        reason = _reason(exc)  # the client's text often says "cannot reach URL (...)" already: once is enough
        text = reason if reason.startswith("cannot reach") else f"cannot reach {url}: {reason}"
        return _failed(name, url, ServerState.OFFLINE, text), 0
    except AuthError as exc:
        return _failed(name, url, ServerState.ERROR, f"{url} refused our credentials: {_reason(exc)}; "
                       "check the server's auth settings"), 0
    except ComfyError as exc:
        return _failed(name, url, ServerState.ERROR, f"{url} does not answer like ComfyUI: {_reason(exc)}"), 0

    running = [item.prompt_id for item in queue.running]
    pending = [item.prompt_id for item in queue.pending]
    others = sum(1 for pid in running + pending if pid not in ours)
    if stats is not None:
        devices = list(stats.devices)
        vram_total = sum(d.vram_total for d in devices) if devices else None
        vram_free = sum(d.vram_free for d in devices) if devices else None
        cpu_only, version = bool(stats.cpu_only), stats.comfyui_version
    else:
        assert previous is not None
        vram_total, vram_free = previous.vram_total, previous.vram_free
        cpu_only, version = previous.cpu_only, previous.comfyui_version
    status = ServerStatus(
        name=name,
        url=url,
        state=ServerState.BUSY if running or pending else ServerState.ONLINE,
        queue_running=len(running),
        queue_pending=len(pending),
        vram_total=vram_total,
        vram_free=vram_free,
        cpu_only=cpu_only,
        latency_ms=round(latency_ms, 2),
        comfyui_version=version,
        checked_at=time.time(),
    )
    return status, others


def disabled_status(name: str, url: str) -> ServerStatus:
    return ServerStatus(name=name, url=url, state=ServerState.DISABLED, enabled=False,
                        error="disabled in the configuration")


def _failed(name: str, url: str, state: ServerState, error: str) -> ServerStatus:
    return ServerStatus(name=name, url=url, state=state, error=error, checked_at=time.time())


def _reason(exc: ComfyError) -> str:
    text = str(exc)
    prefix = f"{exc.server}: " if exc.server else ""
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


MAX_BACKOFF_S = 30.0
#: probes per second over the whole farm at most: on a big farm each server is probed less often
#: than `poll_interval` (100 servers every 0.5 s cost the client 0.3 s of CPU per second, idle)
MAX_PROBES_PER_S = 20.0


def probe_interval(poll_interval: float, enabled: int) -> float:
    """Seconds between two probes of one healthy server: `poll_interval`, stretched so the farm as
    a whole is probed at most MAX_PROBES_PER_S times a second (a flat cost whatever its size; our
    own jobs' progress comes from the event streams, not from these probes)."""
    return max(poll_interval, enabled / MAX_PROBES_PER_S)


def next_backoff(poll_interval: float, current: float) -> float:
    """The next wait before re-probing an offline server: doubling, capped."""
    cap = min(MAX_BACKOFF_S, max(poll_interval, 10 * poll_interval))
    return min(cap, max(poll_interval, current * 2))
