"""Find one of our prompts on a server that ignored the prompt_id we chose (ComfyUI before 0.3.45).

Such a server queues our prompt under an id it makes up, and only the POST answer says which. If
that answer is lost (a connection reset, or our process dying right after the POST), asking for
our own id says "unknown" and sending again would render the job twice. So every prompt also
carries our id in `extra_data` under MARK_KEY; ComfyUI keeps extra_data with the queue item
and in its history entry (`prompt[3]`), in every release we support. Searching the queue and
the newest history for that mark finds the server's id again.

Pure functions over the JSON answers of `GET /queue` and `GET /history?max_items=N`, so the
client only has to fetch them.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

MARK_KEY = "nuke_comfyui_prompt_id"
HISTORY_SEARCHED = 1000  # newest history entries searched for a mark (ComfyUI keeps up to 10,000)


def marked(extra_data: Optional[Dict[str, Any]], our_id: str) -> Dict[str, Any]:
    """extra_data for a POST /prompt, carrying our id."""
    data = dict(extra_data or {})
    data[MARK_KEY] = our_id
    return data


def mark_of(item: Any) -> Optional[str]:
    """Our id from a queue item or history `prompt` list ([number, id, prompt, extra_data, ...])."""
    if not isinstance(item, list) or len(item) < 4 or not isinstance(item[3], dict):
        return None
    mark = item[3].get(MARK_KEY)
    return mark if isinstance(mark, str) else None


def _queue_items(queue: Any) -> Iterable[Any]:
    if not isinstance(queue, dict):
        return []
    items = []
    for key in ("queue_running", "queue_pending"):
        value = queue.get(key)
        if isinstance(value, list):
            items.extend(value)
    return items


def find_in_queue(queue: Any, our_id: str) -> Optional[str]:
    """The server's id of the queued (running or pending) prompt marked with our id."""
    for item in _queue_items(queue):
        if mark_of(item) == our_id and isinstance(item[1], str):
            return item[1]
    return None


def find_in_history(history: Any, our_id: str) -> Optional[str]:
    """The server's id of the finished prompt marked with our id."""
    if not isinstance(history, dict):
        return None
    for server_id, entry in history.items():
        if isinstance(entry, dict) and mark_of(entry.get("prompt")) == our_id:
            return str(server_id)
    return None
