"""Plain, immutable values the ComfyUI client returns.

The scheduler, the pool and the panels pass these across threads; frozen dataclasses make that
safe and keep every caller independent of ComfyUI's raw JSON shapes (which only `client.py`,
`events.py` and `outputs.py` ever read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Optional


class PromptState(str, Enum):
    """Where one prompt stands on one server (the scheduler compares `.value` strings)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"  # execution error, or interrupted/cancelled
    UNKNOWN = "unknown"  # never seen, deleted from the queue, or history wiped by a restart


@dataclass(frozen=True)
class SubmitResult:
    """Answer to POST /prompt. Non-empty `node_errors` on a 200 are warnings: bad branches were dropped."""

    prompt_id: str
    number: int
    node_errors: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueItem:
    number: float
    prompt_id: str
    client_id: Optional[str] = None


@dataclass(frozen=True)
class QueueSnapshot:
    running: List[QueueItem]
    pending: List[QueueItem]  # in run order (sorted by number), not the server's heap order


@dataclass(frozen=True)
class OutputFile:
    """One file a prompt produced, as named by the server (sanitise before writing anywhere)."""

    node_id: str
    key: str  # "images", "gifs", "video", "audio", ...
    filename: str
    subfolder: str
    type: str  # "output" | "temp" | "input"


@dataclass(frozen=True)
class ExecutionFailure:
    node_id: Optional[str]
    node_type: Optional[str]
    exception_type: str
    message: str
    interrupted: bool = False


@dataclass(frozen=True)
class HistoryEntry:
    prompt_id: str
    status_str: str  # "success" | "error" | "" when the server gave none
    completed: bool
    outputs: List[OutputFile]
    failure: Optional[ExecutionFailure]
    started_ms: Optional[int] = None
    ended_ms: Optional[int] = None


@dataclass(frozen=True)
class JobInfo:
    """`/api/jobs/{id}` (ComfyUI 0.8+): the one answer that tells pending from unknown."""

    prompt_id: str
    status: str  # the server's word: pending | in_progress | completed | failed | cancelled
    outputs: List[OutputFile]
    failure: Optional[ExecutionFailure]


@dataclass(frozen=True)
class Device:
    name: str
    type: str  # "cuda", "mps", "cpu", ...
    vram_total: int
    vram_free: int


@dataclass(frozen=True)
class SystemStats:
    comfyui_version: Optional[str]
    os: Optional[str]
    devices: List[Device]
    cpu_only: bool  # vram_* of a cpu device is system RAM, not VRAM


@dataclass(frozen=True)
class UploadedFile:
    """What /upload/image answered: always use this name (the server may have renamed the file)."""

    name: str
    subfolder: str
    type: str

    @property
    def load_image_value(self) -> str:
        """The string LoadImage's `image` input expects for this file."""
        if self.type == "temp":
            base = f"{self.subfolder}/{self.name}" if self.subfolder else self.name
            return f"{base} [temp]"
        if self.type == "output":
            base = f"{self.subfolder}/{self.name}" if self.subfolder else self.name
            return f"{base} [output]"
        return f"{self.subfolder}/{self.name}" if self.subfolder else self.name
