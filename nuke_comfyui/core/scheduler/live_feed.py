"""`LiveFeed`: one server's live events matched to our jobs, written to the `LiveBoard`.

It sits in front of tracking's per-stream callback: previews, `progress_state` and the
negotiation's answer stop here; every other event goes on to tracking unchanged, after a look at
the few that say which prompt runs (start, progress, end, connection changes).

Whose preview is it? Never another artist's:
- type 4 carries the prompt id: it must be one of our prompts, current for its job, and sent to
  this server;
- type 1 carries nothing. ComfyUI sends it to the socket of the prompt it is running, or to
  every socket when that prompt was queued without a client id (another tool's, perhaps). It is
  taken as ours only when exactly one prompt of ours has started on this connection and not
  ended, and the `progress` frame just before it (the server sends the step's progress, then its
  preview) was that prompt's or had no prompt id. Anything else is dropped.

Called only on its stream's thread. Prompts are looked up in the scheduler's indexes without its
lock (single dict reads): a lookup that races a change can only miss a preview, and our prompt
ids are the only keys there, so it can never pick up a stranger's.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional

from nuke_comfyui.core.scheduler.live_board import LiveBoard

log = logging.getLogger(__name__)

#: events consumed here (tracking never needs them)
_OWN = frozenset({"Preview", "NodeProgress", "ServerFeatures"})
#: events looked at here, then passed on
_SEEN = frozenset({"Progress", "ExecutionStart", "ExecutionFailed", "PromptDone", "Connected", "Disconnected"})
_MAX_STARTED = 256


class LiveFeed:
    """Stream callback of one server: live events to the board, the rest to `forward`."""

    __slots__ = ("board", "forward", "last_progress", "name", "node_progress", "started", "state")

    def __init__(self, board: LiveBoard, state: Any, name: str, forward: Callable[[Any], None]) -> None:
        self.board = board
        self.state = state  # the scheduler's state: `current(pid)` and `occupying`
        self.name = name
        self.forward = forward
        self.started: Dict[str, None] = {}  # prompts started on this connection, not ended (any client's)
        self.last_progress: Optional[str] = None  # prompt id of the last `progress` frame
        self.node_progress = False  # this server sends progress_state: `progress` adds nothing

    def __call__(self, event: Any) -> None:
        kind = type(event).__name__
        if kind in _OWN:
            self._own(kind, event)
            return
        if kind in _SEEN:
            self._see(kind, event)
        self.forward(event)

    # -- what runs ---------------------------------------------------------------------------

    def _see(self, kind: str, event: Any) -> None:
        if kind == "Progress":
            pid = event.prompt_id
            self.last_progress = pid
            if self.board.interest.progress and not self.node_progress:
                job = self._ours(pid)
                if job is not None:
                    self.board.progress(job, pid, self.name, node=event.node, value=event.value,
                                        maximum=event.max)
        elif kind == "ExecutionStart":
            if event.prompt_id is not None:
                if len(self.started) >= _MAX_STARTED:  # ends we never heard (deleted, lost): oldest go
                    del self.started[next(iter(self.started))]
                self.started[event.prompt_id] = None
        elif kind in ("ExecutionFailed", "PromptDone"):
            self.started.pop(event.prompt_id, None)
            self.board.ended(event.prompt_id)
        else:  # Connected / Disconnected: nothing of the old connection carries over
            self.started.clear()
            self.last_progress = None
            self.node_progress = False
            self.board.forget_features(self.name)
            self.board.server_lost(self.name)

    # -- live events -------------------------------------------------------------------------

    def _own(self, kind: str, event: Any) -> None:
        if kind == "ServerFeatures":
            self.board.set_features(self.name, event)
        elif kind == "NodeProgress":
            self.node_progress = True
            job = self._ours(event.prompt_id)
            if job is not None:
                node = event.current()
                self.board.progress(job, event.prompt_id, self.name, node=None if node is None else node.display_node,
                                    value=0.0 if node is None else node.value,
                                    maximum=0.0 if node is None else node.max)
        else:
            pid = event.prompt_id if event.prompt_id is not None else self._only_running()
            job = self._ours(pid)
            if job is None or pid is None:
                log.debug("%s: a preview not matched to a prompt of ours was dropped", self.name)
                return
            self.board.preview(job, pid, event.mime, event.data)

    def _ours(self, pid: Optional[str]) -> Any:
        """Our job whose current prompt is `pid` on this server, or None."""
        if pid is None or self.state.occupying.get(pid) != self.name:
            return None
        return self.state.current(pid)

    def _only_running(self) -> Optional[str]:
        """For a preview without metadata: the one prompt of ours running here, if exactly one."""
        ours = [pid for pid in list(self.started) if self._ours(pid) is not None]
        if len(ours) != 1:
            return None
        if self.last_progress not in (None, ours[0]):
            return None  # the step just before was another prompt's: so is its preview
        return ours[0]
