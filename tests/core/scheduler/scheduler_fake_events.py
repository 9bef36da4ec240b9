"""Plain records the fake servers emit and return, named like core/comfy's so the scheduler
dispatches on them as on the real ones (it goes by class name, like core/comfy/events.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

# -- events (the scheduler dispatches on class names, like core/comfy/events.py) ----------------


@dataclass(frozen=True)
class Connected:
    client_id: str
    reconnect: bool = False


@dataclass(frozen=True)
class Disconnected:
    reason: str = ""


@dataclass(frozen=True)
class ExecutionStart:
    prompt_id: str
    timestamp_ms: int = 0


@dataclass(frozen=True)
class Progress:
    prompt_id: Optional[str]
    node: str
    value: int
    max: int


@dataclass(frozen=True)
class ExecutionFailure:
    node_id: str
    node_type: str
    exception_type: str
    message: str
    interrupted: bool = False


@dataclass(frozen=True)
class ExecutionFailed:
    prompt_id: str
    failure: ExecutionFailure
    timestamp_ms: int = 0


@dataclass(frozen=True)
class PromptDone:
    prompt_id: str


@dataclass(frozen=True)
class OutputFile:
    node_id: str
    key: str
    filename: str
    subfolder: str
    type: str


@dataclass(frozen=True)
class HistoryEntry:
    prompt_id: str
    status_str: str
    completed: bool
    outputs: List[OutputFile]
    failure: Optional[ExecutionFailure]


@dataclass(frozen=True)
class SubmitResult:
    prompt_id: str
    number: int
    node_errors: Dict[str, Any]


@dataclass
class ServerConfig:
    name: str
    max_concurrent: int = 1
    enabled: bool = True
    transfer: str = "upload"
    dir_local: str = ""
    dir_remote: str = ""


@dataclass
class Status:
    name: str
    vram_total: Optional[int]
    enabled: bool = True
    state: str = "online"


@dataclass(frozen=True)
class Placement:
    class_types: Any
    job_type: Any
    duration_key: str
    exclude: Any
    strategy: Any
    min_vram: Optional[int]
