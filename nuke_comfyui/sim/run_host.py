"""What a running prompt needs from the server it runs on, as a Protocol.

`executor.PromptRun` runs one prompt for `server.SimServer`; the server imports the executor to
run prompts, so the executor must not import the server back. It names this Protocol instead:
the exact set of attributes a run reads or calls, which `SimServer` provides (a test checks).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Dict, Optional, Protocol


class PromptHost(Protocol):
    """The server side of one prompt's execution (messages, cache, files, faults, counters)."""

    options: Any  # ServerOptions: profile, workload, fault plan inputs
    folders: Any  # files.Folders
    catalog: Any  # catalog.Catalog
    cache: Dict[str, Any]  # node id -> (signature, values, ui): ComfyUI's execution cache
    queue: Any  # state.PromptQueue
    pool: concurrent.futures.Executor  # where pixel work runs, off the event loop
    interrupt_event: asyncio.Event
    last_node_id: Optional[str]

    @property
    def vram_gb(self) -> Optional[float]: ...

    @property
    def seconds_per_step(self) -> float: ...

    def current_speed(self) -> float: ...

    async def send(self, event: str, data: Dict[str, Any], sid: Optional[str] = None) -> None: ...

    async def broadcast_status(self) -> None: ...

    async def drop_websockets(self) -> None: ...

    def record_execution(self, item: Any, kind: str) -> None: ...
