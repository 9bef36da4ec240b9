"""What the pool knows about one server at one moment: an immutable snapshot safe to pass across threads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Any, Dict, Optional

from nuke_comfyui.core.comfy.capabilities import Capabilities


class ServerState(str, Enum):
    """online: idle and reachable; busy: its queue (anyone's jobs) is not empty; offline: unreachable;
    disabled: switched off in the config (never polled); error: it answers, but not like ComfyUI
    (garbage, refused credentials, 5xx)."""

    ONLINE = "online"
    BUSY = "busy"
    OFFLINE = "offline"
    DISABLED = "disabled"
    ERROR = "error"

    @property
    def usable(self) -> bool:
        return self in (ServerState.ONLINE, ServerState.BUSY)


@dataclass(frozen=True)
class ServerStatus:
    name: str
    url: str
    state: ServerState
    enabled: bool = True
    queue_running: int = 0
    queue_pending: int = 0
    vram_total: Optional[int] = None
    vram_free: Optional[int] = None
    cpu_only: bool = False
    latency_ms: Optional[float] = None
    comfyui_version: Optional[str] = None
    error: Optional[str] = None
    checked_at: Optional[float] = None
    capabilities: Optional[Capabilities] = None  # what the server can do (None: not learned yet)
    #: this process's scheduler saw a prompt of ours make no progress there and moved it away
    #: (core/scheduler/stall_report.py); kept while the server answers, until a prompt of ours moves there
    stalled: Optional[str] = None

    @property
    def state_text(self) -> str:
        """The state as the Server Status panel and `status` print it: `stalled` while a stall note
        stands on an answering server (its `state` stays online/busy: it answers, it does not move)."""
        return "stalled" if self.stalled and self.state.usable else self.state.value

    @property
    def queue_total(self) -> int:
        return self.queue_running + self.queue_pending

    def to_json(self) -> Dict[str, Any]:
        """The object printed by `nuke-comfyui status --json`."""
        data = asdict(self)
        data["state"] = self.state.value
        return data

    def same_as(self, other: Optional[ServerStatus]) -> bool:
        """Equal apart from the measurement noise (latency, probe time): used to publish only changes."""
        if other is None:
            return False
        # Field by field without the noise, not through to_json: asdict deep-copies on every probe
        # (twice per server per poll interval; a third of a probe's CPU at 100 servers).
        def quiet(status: ServerStatus) -> ServerStatus:
            return replace(status, latency_ms=None, checked_at=None, vram_free=None)

        return quiet(self) == quiet(other)
