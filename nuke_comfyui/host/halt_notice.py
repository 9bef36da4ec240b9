"""A halted journal met by Render or Retry: said on the node and in the message box, with the fix.

Why: once the journal's disk is full the scheduler sends no new work (core/scheduler/journal_halt.py).
Retry and Render try the journal again first; while it still cannot be written they raise the
notice (what failed, where to free space). Here that notice gets Nuke's way on — press the same
button again once space is freed — on the node's status, and `callbacks._guarded` shows it in
Nuke's message box. Any other journal error passes through untouched.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import nuke

from nuke_comfyui.core.errors import JournalError
from nuke_comfyui.host import knobs


@contextlib.contextmanager
def halted_journal_said(node: nuke.Node, scheduler: Any, verb: str, button: str) -> Iterator[None]:
    """Around a scheduler call: a JournalError while the journal is halted becomes `<notice>, then
    press <button> again`, shown on the node (`not <verb>: journal not writable`) and re-raised."""
    try:
        yield
    except JournalError as exc:
        if getattr(scheduler, "halted", None) is None:
            raise
        text = f"{exc}, then press {button} again"
        knobs.show_status(node, f"not {verb}: journal not writable\n{text}")
        raise JournalError(text) from None
