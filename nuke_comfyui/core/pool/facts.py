"""Per-server bookkeeping of the pool, and the feed of changed facts the dispatcher's LoadIndex reads.

The dispatcher must not rescan every server on each event. So the pool records, under its lock,
each change of a server's load-relevant facts (online, other users' jobs, slots, priority) with a
version number, and moves an eligibility epoch whenever what a server can run may have changed;
`since(version)` then costs O(changes), not O(servers).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from nuke_comfyui.core.comfy.capabilities import Capabilities
from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.pool.own_prompts import OwnPromptIds
from nuke_comfyui.core.pool.status import ServerStatus


@dataclass
class ServerRecord:
    """Per-server bookkeeping, guarded by the pool's lock."""

    config: ServerConfig
    client: Any
    own: OwnPromptIds
    status: ServerStatus
    others: int = 0
    next_probe: float = 0.0
    next_stats: float = 0.0
    backoff: float = 0.0
    probing: bool = False
    classes: Optional[FrozenSet[str]] = None  # None = not known (yet, or /object_info failed)
    object_info: Optional[Dict[str, Any]] = None  # the last /object_info answer (input specs, combos)
    capability_checked: bool = False
    caps: Capabilities = field(default_factory=Capabilities)  # protocol features (capabilities.py)
    caps_probed: bool = False  # learned since the server last came back
    prober: Any = None  # the client the health probes use (no retries, short connect timeout)
    failed_at: float = 0.0  # time.monotonic() of the last report_failure: older probe answers are stale
    stalled: Optional[str] = None  # the scheduler's report_stall note, carried onto every new status
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerFacts:
    """What the dispatcher's LoadIndex needs to know about one server's load."""

    name: str
    online: bool  # enabled, usable and its node list read: it may be given jobs
    others: int  # other users' jobs in its queue
    max_concurrent: int
    priority: int


def online(server: ServerRecord) -> bool:
    """May this server be given a job now (as far as the pool knows)?"""
    return server.config.enabled and server.status.state.usable and server.capability_checked


class FactsFeed:
    """Versioned changes of every server's facts (the pool's lock guards it)."""

    def __init__(self) -> None:
        self.version = 0
        self.epoch = 0
        self._changes: OrderedDict[str, int] = OrderedDict()  # server -> version of its last change
        self._facts: Dict[str, ServerFacts] = {}
        self._signatures: Dict[str, Tuple[Any, ...]] = {}

    def touch(self, server: ServerRecord) -> None:
        """Record the server's facts if they changed; a new epoch if its fit may have changed."""
        config = server.config
        name = config.name
        facts = ServerFacts(name, online(server), server.others, config.max_concurrent, config.priority)
        signature = (config.enabled, tuple(config.job_types or ()), server.caps.supported, server.caps.refusal,
                     id(server.classes), server.status.vram_total)
        if signature != self._signatures.get(name):
            self._signatures[name] = signature
            self.epoch += 1
        elif facts == self._facts.get(name):
            return
        self.version += 1
        self._facts[name] = facts
        self._changes[name] = self.version
        self._changes.move_to_end(name)

    def since(self, version: int) -> Tuple[int, int, List[ServerFacts]]:
        """(version, epoch, facts of the servers changed after `version`, in the order they changed)."""
        changed: List[ServerFacts] = []
        for name in reversed(self._changes):
            if self._changes[name] <= version:
                break
            changed.append(self._facts[name])
        changed.reverse()
        return self.version, self.epoch, changed
