"""Failure classes: what went wrong with an attempt decides what happens to the job next.

- validation (HTTP 400): the workflow itself is wrong — fail now, never retry;
- server lost (connection refused/reset, stream and HTTP both gone, pool says offline): requeue
  elsewhere, exclude that server for this job, do not spend the retry budget (not the job's fault);
- out of memory: retry only on a server with more VRAM than the one that ran out;
- other execution errors and server errors: bounded retry on another server;
- timeout: interrupt that prompt by id, then bounded retry on another server.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional

from nuke_comfyui.core.errors import (
    AuthError,
    PromptValidationError,
    ServerUnavailable,
    UnsafePathError,
)


class Action(str, Enum):
    FAIL = "fail"  # final, no retry
    RETRY = "retry"  # elsewhere, counts against the retry budget
    REQUEUE = "requeue"  # elsewhere, free (the server, not the job, failed)
    RETRY_MORE_VRAM = "retry_more_vram"  # only on a server with more VRAM


@dataclass(frozen=True)
class Verdict:
    action: Action
    outcome: str  # attempt outcome recorded in the journal
    message: str
    server_lost: bool = False  # tell the pool now instead of waiting for its next probe


def is_out_of_memory(exception_type: str, message: str) -> bool:
    """ComfyUI reports CUDA/MPS OOM as `torch.OutOfMemoryError` or an 'out of memory' message."""
    return "outofmemory" in exception_type.replace("_", "").lower() or "out of memory" in message.lower()


def classify_submit_error(exc: BaseException) -> Verdict:
    """Decide what a failed POST /prompt (or the staging before it) means for the job."""
    from nuke_comfyui.core.pixels.server_fit import PlateNotLoadable
    from nuke_comfyui.core.scheduler.transfer import UploadTooLarge

    if isinstance(exc, PromptValidationError):
        return Verdict(Action.FAIL, "failed", f"ComfyUI rejected the workflow: {exc}")
    if isinstance(exc, ServerUnavailable):
        return Verdict(Action.REQUEUE, "lost", str(exc), server_lost=True)
    if isinstance(exc, AuthError):
        return Verdict(Action.REQUEUE, "refused", str(exc))
    if isinstance(exc, UnsafePathError):
        return Verdict(Action.FAIL, "failed", str(exc))
    if isinstance(exc, (PlateNotLoadable, UploadTooLarge)):  # not for this server: elsewhere, this one left out
        return Verdict(Action.REQUEUE, "unfit", str(exc))
    return Verdict(Action.RETRY, "failed", str(exc) or type(exc).__name__)


def describe_failure(failure: Any) -> str:
    """One readable line for an ExecutionFailure: node, type and message."""
    node = getattr(failure, "node_id", None) or "?"
    node_type = getattr(failure, "node_type", None) or ""
    exception_type = getattr(failure, "exception_type", None) or "error"
    message = (getattr(failure, "message", None) or "").strip()
    where = f"node {node} ({node_type})" if node_type else f"node {node}"
    text = f"{where} raised {exception_type}: {message}" if message else f"{where} raised {exception_type}"
    from nuke_comfyui.core.pixels.load_errors import load_error_hint

    hint = load_error_hint(node_type, exception_type, message)
    return f"{text}; {hint}" if hint else text


def classify_execution_failure(failure: Any) -> Verdict:
    """Decide what an `execution_error` / failed history entry means for the job."""
    text = describe_failure(failure)
    if is_out_of_memory(getattr(failure, "exception_type", "") or "", getattr(failure, "message", "") or ""):
        return Verdict(Action.RETRY_MORE_VRAM, "out_of_memory", f"out of GPU memory: {text}")
    if getattr(failure, "interrupted", False):
        # Somebody else interrupted our prompt (another artist's bare /interrupt): not the job's fault.
        return Verdict(Action.REQUEUE, "interrupted", f"interrupted on the server: {text}")
    return Verdict(Action.RETRY, "failed", text)


def timeout_verdict(seconds: float, server: str) -> Verdict:
    return Verdict(
        Action.RETRY,
        "timeout",
        f"no result from {server} within {seconds:g} s of starting; interrupted it. Raise the timeout "
        "(--timeout or job_timeout) if the workflow is just slow",
    )


def lost_verdict(server: str, reason: Optional[str] = None) -> Verdict:
    return Verdict(Action.REQUEUE, "lost", f"lost server {server}" + (f": {reason}" if reason else ""),
                   server_lost=True)
