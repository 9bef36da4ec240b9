"""What one server's event stream told us about each prompt, so most jobs need no GET /history.

Why: ComfyUI sends every output node's files in its `executed` message to the socket the prompt
was submitted from, then `execution_success`, then `executing {node: null}`. When we heard all of
that on one unbroken connection, the history entry holds nothing more we need, and reading it
(one HTTP call per job) can be skipped. A job must never be marked done with outputs missing, so
the stream's outputs are used only when all of this holds (else history is read as before):

- `execution_start` came on the same connection as the end (no reconnect in between: nothing is
  replayed after one, and prompts sent with an older client id report to nobody);
- `execution_success` came (failures and interrupts go their own way);
- every output node of the workflow sent `executed` with at least one file;
- none of those output nodes is in `execution_cached` (a server before ComfyUI 0.8 sends no
  `executed` for a cached node, and a cached node's output is the previous prompt's).

One `StreamOutputs` belongs to one stream and is used only on that stream's thread (no lock).
Progress frames are thinned here too: `progress_due` says when one is worth the scheduler lock.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Sequence

from nuke_comfyui.core.comfy.outputs import output_files

#: prompts remembered per stream at most (each entry is dropped at the prompt's end; this bounds leaks)
MAX_PROMPTS = 4096
#: publish progress when it moved at least this much ...
PROGRESS_STEP = 0.02
#: ... and at most this often per prompt (the end of a bar, value == max, always goes through)
PROGRESS_EVERY_S = 0.1


class Heard:
    """The messages of one prompt that matter for its results."""

    __slots__ = ("cached", "outputs", "progress", "progress_at", "success")

    def __init__(self) -> None:
        self.cached: List[str] = []
        self.outputs: Dict[str, Dict[str, Any]] = {}
        self.success = False
        self.progress = -1.0
        self.progress_at = 0.0


class StreamOutputs:
    """Per-prompt notes of one connection; cleared whenever the connection changes."""

    def __init__(self, limit: int = MAX_PROMPTS) -> None:
        self._prompts: Dict[str, Heard] = {}
        self._limit = limit

    def __len__(self) -> int:
        return len(self._prompts)

    def reset(self) -> None:
        """The connection changed: what the old one told us can no longer be completed."""
        self._prompts.clear()

    def started(self, pid: Optional[str]) -> None:
        if pid is None:
            return
        if len(self._prompts) >= self._limit:  # prompts that never ended (deleted, lost): oldest go
            for old in list(self._prompts)[: self._limit // 4 or 1]:
                del self._prompts[old]
        self._prompts[pid] = Heard()

    def cached(self, pid: Optional[str], nodes: Sequence[str]) -> None:
        heard = self._prompts.get(pid) if pid else None
        if heard is not None:
            heard.cached.extend(str(n) for n in nodes)

    def executed(self, pid: Optional[str], node: Optional[str], output: Dict[str, Any]) -> None:
        heard = self._prompts.get(pid) if pid else None
        if heard is not None and node is not None:
            heard.outputs[str(node)] = output  # like history: the node's last output wins

    def succeeded(self, pid: Optional[str]) -> None:
        heard = self._prompts.get(pid) if pid else None
        if heard is not None:
            heard.success = True

    def forget(self, pid: Optional[str]) -> None:
        if pid:
            self._prompts.pop(pid, None)

    def finished(self, pid: Optional[str]) -> Optional[Heard]:
        """The prompt ended (`executing null`): its notes, removed; None if it did not start here."""
        return self._prompts.pop(pid, None) if pid else None

    def progress_due(self, pid: Optional[str], value: float, maximum: float,
                     now: Optional[float] = None) -> bool:
        """Is this progress frame worth taking the scheduler lock for?

        Yes for a prompt whose start we did not hear (it may still be DISPATCHED), for the end of
        a bar, and for a move of at least PROGRESS_STEP once PROGRESS_EVERY_S has passed.
        """
        heard = self._prompts.get(pid) if pid else None
        if heard is None:
            return True
        fraction = min(1.0, value / maximum) if maximum > 0 else 0.0
        now = time.monotonic() if now is None else now
        due = (heard.progress < 0 or fraction >= 1.0
               or (abs(fraction - heard.progress) >= PROGRESS_STEP and now - heard.progress_at >= PROGRESS_EVERY_S))
        if due:
            heard.progress, heard.progress_at = fraction, now
        return due


def complete_outputs(heard: Optional[Heard], output_nodes: Sequence[str]) -> Optional[List[Any]]:
    """The prompt's output files from the stream, or None when history must be read instead."""
    if heard is None or not heard.success or not output_nodes:
        return None
    cached = set(heard.cached)
    for node in map(str, output_nodes):
        if node in cached or not output_files({node: heard.outputs.get(node)}):
            return None
    return output_files(heard.outputs)
