"""The queue and history of one simulated server, kept exactly like ComfyUI's `PromptQueue`.

The details clients trip over live here: pending items are served from a heap (so `/queue`
lists them in heap order, not run order), `number` may be negative (`front`) or a float, at most
one item runs, deleting touches only pending items, and history is an insertion-ordered dict
capped at 10,000 entries that a restart wipes. Only the server's event-loop thread touches it.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

MAX_HISTORY = 10000


@dataclass
class QueueItem:
    """One accepted prompt (the first five fields are what `/queue` and history show)."""

    number: float
    prompt_id: str
    prompt: Dict[str, Any]
    extra_data: Dict[str, Any]
    outputs: List[str]
    accept_index: int  # 1-based count of accepted prompts on this server (drives fault options)

    @property
    def client_id(self) -> Optional[str]:
        return self.extra_data.get("client_id")

    @property
    def create_time(self) -> int:
        return int(self.extra_data.get("create_time", 0))

    def as_list(self) -> List[Any]:
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs]


@dataclass
class PromptQueue:
    """Pending heap, the running item and the history of one server."""

    heap: List[Tuple[float, str, int]] = field(default_factory=list)
    items: Dict[int, QueueItem] = field(default_factory=dict)
    running: Optional[QueueItem] = None
    history: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    _seq: Any = field(default_factory=itertools.count)

    def put(self, item: QueueItem) -> None:
        seq = next(self._seq)
        self.items[seq] = item
        heapq.heappush(self.heap, (item.number, item.prompt_id, seq))

    def pop(self) -> Optional[QueueItem]:
        """Take the next item to run (lowest number) and mark it running."""
        if not self.heap:
            return None
        _, _, seq = heapq.heappop(self.heap)
        self.running = self.items.pop(seq)
        return self.running

    def pending(self) -> List[QueueItem]:
        """Pending items in heap order, the order the real `/queue` answers with."""
        return [self.items[seq] for _, _, seq in self.heap]

    def remaining(self) -> int:
        return len(self.heap) + (1 if self.running is not None else 0)

    def delete(self, prompt_ids: List[str]) -> int:
        """Remove pending items with these ids; returns how many went."""
        wanted = set(prompt_ids)
        keep = [entry for entry in self.heap if entry[1] not in wanted]
        removed = len(self.heap) - len(keep)
        for entry in self.heap:
            if entry[1] in wanted:
                self.items.pop(entry[2], None)
        self.heap = keep
        heapq.heapify(self.heap)
        return removed

    def clear(self) -> None:
        self.heap = []
        self.items = {}

    def finish(self, item: QueueItem, entry: Dict[str, Any]) -> None:
        """Record a finished prompt (before `executing null` is sent, like ComfyUI's task_done)."""
        self.history[item.prompt_id] = entry
        while len(self.history) > MAX_HISTORY:
            self.history.pop(next(iter(self.history)))
        if self.running is item:
            self.running = None

    def history_slice(self, max_items: Optional[int], offset: int) -> Dict[str, Any]:
        """ComfyUI's get_history: without an offset, the newest `max_items` in insertion order."""
        if offset < 0 and max_items is not None:
            offset = len(self.history) - max_items
        out: Dict[str, Any] = {}
        for i, key in enumerate(self.history):
            if i >= offset:
                out[key] = self.history[key]
                if max_items is not None and len(out) >= max_items:
                    break
        return out
