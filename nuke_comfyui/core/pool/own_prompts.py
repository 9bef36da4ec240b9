"""Tell our prompts from other artists' in a shared server's queue.

Servers are shared: the queue the pool reads holds everyone's jobs. The scheduler counts its own
in-flight jobs itself, so the pool must count only the *others*. Every prompt we submit goes
through the pool's client for that server; this thin wrapper remembers the ids it submitted.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Deque, Set

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
    """Delegates everything to a ComfyClient; records the prompt id of every submit."""

    def __init__(self, client: Any, own: OwnPromptIds) -> None:
        self._client = client
        self._own = own

    def submit(self, prompt: Any, *, prompt_id: str, **kwargs: Any) -> Any:
        self._own.add(prompt_id)  # before the POST: the prompt may be queued even if the answer is lost
        return self._client.submit(prompt, prompt_id=prompt_id, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
