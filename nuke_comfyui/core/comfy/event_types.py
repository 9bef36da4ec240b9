"""The events an `EventStream` delivers: plain frozen values, safe to pass across threads.

Kept apart from events.py (which imports websocket-client) so that consumers such as the
scheduler's tracking and live-progress parts can name the events without loading the WebSocket
library with the core. The live-view events (`NodeProgress`, `Preview`, `ServerFeatures`) live
beside their parsers and are named in the `ComfyEvent` union here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

from nuke_comfyui.core.comfy.feature_flags import ServerFeatures
from nuke_comfyui.core.comfy.node_progress import NodeProgress
from nuke_comfyui.core.comfy.previews import Preview
from nuke_comfyui.core.comfy.types import ExecutionFailure


@dataclass(frozen=True)
class Connected:
    client_id: str
    reconnect: bool


@dataclass(frozen=True)
class Disconnected:
    reason: str


@dataclass(frozen=True)
class QueueStatus:
    queue_remaining: int


@dataclass(frozen=True)
class ExecutionStart:
    prompt_id: Optional[str]
    timestamp_ms: Optional[int] = None


@dataclass(frozen=True)
class ExecutionCached:
    prompt_id: Optional[str]
    nodes: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class Executing:
    prompt_id: Optional[str]
    node: Optional[str]


@dataclass(frozen=True)
class Progress:
    prompt_id: Optional[str]
    node: Optional[str]
    value: float
    max: float


@dataclass(frozen=True)
class Executed:
    prompt_id: Optional[str]
    node: Optional[str]
    output: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecutionSuccess:
    prompt_id: Optional[str]
    timestamp_ms: Optional[int] = None


@dataclass(frozen=True)
class ExecutionFailed:
    prompt_id: Optional[str]
    failure: ExecutionFailure
    timestamp_ms: Optional[int] = None


@dataclass(frozen=True)
class PromptDone:
    """`executing` with node null: the history entry is written, results can be read."""

    prompt_id: str


ComfyEvent = Union[Connected, Disconnected, QueueStatus, ExecutionStart, ExecutionCached, Executing,
                   Progress, Executed, ExecutionSuccess, ExecutionFailed, PromptDone, NodeProgress, ServerFeatures,
                   Preview]
