"""Tell our prompts from other artists' in a shared server's queue.

Servers are shared: the queue the pool reads holds everyone's jobs. The scheduler counts its own
in-flight jobs itself, so the pool must count only the *others*. Every prompt we submit goes
through the pool's client for that server; this thin wrapper remembers the ids it submitted.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Callable, Deque, Optional, Set

from nuke_comfyui.core.comfy.capabilities import Capabilities

REMEMBERED = 10_000  # far more than can sit in one server's queue; bounded so memory stays flat


class OwnPromptIds:
    """A bounded, thread-safe set of prompt ids (oldest forgotten first)."""

    def __init__(self, limit: int = REMEMBERED) -> None:
        self._lock = threading.Lock()
        self._ids: Set[str] = set()
        self._order: Deque[str] = deque()
        self._limit = limit

    def add(self, prompt_id: str) -> None:
        with self._lock:
            if prompt_id in self._ids:
                return
            self._ids.add(prompt_id)
            self._order.append(prompt_id)
            while len(self._order) > self._limit:
                self._ids.discard(self._order.popleft())

    def __contains__(self, prompt_id: object) -> bool:
        with self._lock:
            return prompt_id in self._ids

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)

    def snapshot(self) -> Set[str]:
        with self._lock:
            return set(self._ids)


class TrackingClient:
    """Delegates everything to a ComfyClient; records the prompt id of every submit.

    A server older than ComfyUI 0.3.45 queues our prompt under an id it makes up: that id is
    recorded too, and `on_prompt_id(honoured)` tells the pool what the answer showed.
    `capabilities` is the pool's current view of the server (see core/comfy/capabilities.py).
    """

    def __init__(self, client: Any, own: OwnPromptIds,
                 on_prompt_id: Optional[Callable[[bool], None]] = None) -> None:
        self._client = client
        self._own = own
        self._on_prompt_id = on_prompt_id
        self.capabilities = Capabilities()  # nothing learned yet: the oldest, always-safe behaviour

    def submit(self, prompt: Any, *, prompt_id: str, **kwargs: Any) -> Any:
        self._own.add(prompt_id)  # before the POST: the prompt may be queued even if the answer is lost
        result = self._client.submit(prompt, prompt_id=prompt_id, **kwargs)
        returned = getattr(result, "prompt_id", prompt_id)
        if isinstance(returned, str):
            self._own.add(returned)
            if self._on_prompt_id is not None:
                self._on_prompt_id(returned == prompt_id)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class PromptIdObserver:
    """Bound callback for TrackingClient: tells the pool what a POST answer showed about prompt ids."""

    __slots__ = ("name", "pool")

    def __init__(self, pool: Any, name: str) -> None:
        self.pool = pool
        self.name = name

    def __call__(self, honoured: bool) -> None:
        self.pool.observe_prompt_ids(self.name, honoured)
