"""The ComfyUI protocol layer: HTTP client, WebSocket event stream, output handling."""

from __future__ import annotations

from nuke_comfyui.core.comfy.client import ComfyClient, UnsupportedEndpoint
from nuke_comfyui.core.comfy.events import EventStream
from nuke_comfyui.core.comfy.types import (
    Device,
    ExecutionFailure,
    HistoryEntry,
    JobInfo,
    OutputFile,
    PromptState,
    QueueItem,
    QueueSnapshot,
    SubmitResult,
    SystemStats,
    UploadedFile,
)

__all__ = [
    "ComfyClient", "Device", "EventStream", "ExecutionFailure", "HistoryEntry", "JobInfo", "OutputFile",
    "PromptState", "QueueItem", "QueueSnapshot", "SubmitResult", "SystemStats", "UnsupportedEndpoint",
    "UploadedFile",
]
