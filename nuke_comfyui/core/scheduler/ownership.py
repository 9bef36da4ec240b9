"""Ownership of the groups this process renders, and releasing them when they settle.

Each group this scheduler runs is owned in the journal by this process (core/group_owners.py).
The dispatch loop calls `beat` every few seconds on a worker: it refreshes the heartbeat and
learns of cancels requested by other processes (then cancels the group here, for real) or of a
forced take-over (then this process stops following the group). When a group settles its
owner row is released, and only the most recent settled groups stay in memory, so a Nuke
session that lives for days does not grow with every render.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Callable, List, Optional

from nuke_comfyui.core.errors import JournalError
from nuke_comfyui.core.group_owners import HEARTBEAT_S, GroupOwners, Owner
from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.scheduler.jobs import ACTIVE
from nuke_comfyui.core.scheduler.state import SchedulerState

log = logging.getLogger(__name__)

KEEP_SETTLED = 8  # settled groups kept in memory for snapshot(); older ones live on in the journal


class Ownership:
    """Claims, heartbeats and releases this process's groups."""

    def __init__(self, state: SchedulerState, journal: Journal, keep_settled: int = KEEP_SETTLED,
                 on_journal_error: Optional[Callable[[BaseException], None]] = None) -> None:
        self.state = state
        self._on_journal_error = on_journal_error  # the journal halt: said once, no traceback per beat
        self.owners = GroupOwners(journal)
        self.keep_settled = keep_settled
        self.next_beat = 0.0
        self._beating = False
        self._settled: OrderedDict[str, None] = OrderedDict()
        state.cancelled_elsewhere = self._cancelled_elsewhere

    def claim(self, group_id: str, *, force: bool = False) -> None:
        """Own the group; raises GroupOwnedError while another live process renders it."""
        previous = self.owners.claim(group_id, force=force)
        if previous is not None:
            how = "forced take-over from" if previous.alive() else "taking over from dead owner"
            log.warning("group %s: %s %s", group_id[:8], how, previous.describe())

    def owner(self, group_id: str) -> Optional[Owner]:
        return self.owners.get(group_id)

    def _cancelled_elsewhere(self, group_id: str) -> bool:
        try:
            return self.owners.cancel_requested(group_id)
        except Exception:
            log.exception("could not read the cancel flag of group %s", group_id[:8])
            return False

    # -- heartbeat (dispatch loop schedules it on a worker) ------------------------------------------

    def due(self, now: float) -> bool:
        if self._beating or now < self.next_beat:
            return False
        self.next_beat = now + HEARTBEAT_S
        self._beating = True
        return True

    def beat(self) -> None:
        s = self.state
        try:
            with s.lock:
                ids = [g.id for g in s.groups.values() if g.id not in self._settled]
            stop = self.owners.heartbeat(ids)
            for group_id in stop:
                if self.owners.cancel_requested(group_id):
                    log.warning("group %s was cancelled from another process; cancelling it here",
                                group_id[:8])
                    if s.cancel_group is not None:
                        s.cancel_group(group_id)
                else:
                    owner = self.owners.get(group_id)
                    self.abandon(group_id, owner.describe() if owner is not None and owner.pid else "another process")
        except JournalError as exc:
            if self._on_journal_error is None:
                raise
            self._on_journal_error(exc)
        except Exception:
            log.exception("group heartbeat failed")
        finally:
            self._beating = False

    def abandon(self, group_id: str, owner: str = "another process") -> None:
        """Another process took the group over (--force): stop following it, leave its prompts alone.

        Prompts placed but not yet sent are never sent (their journal write was refused), and the
        group's unwritten rows are dropped: the new owner's journal view is the one that counts.
        """
        s = self.state
        with s.lock:
            group = s.groups.get(group_id)
            if group is None:
                return
            log.warning("group %s was taken over by %s; no longer following it here", group_id[:8], owner)
            group.released_reason = f"taken over by {owner}"
            s.taken_over[group_id] = owner
            for job in list(group.active):
                if job.state in ACTIVE and job.prompt_id is not None:
                    marker = s.submitting.pop(job.prompt_id, None)
                    if marker is not None and job.attempt is not None and job.attempt.outcome == "dispatched":
                        marker.set_result(None)  # placed, never sent: nothing to wait for
                    s.release(job.prompt_id)
                s.detach(job)
            s.dirty_jobs = {job for job in s.dirty_jobs if job.group is not group}
            s.dirty_attempts = {key: value for key, value in s.dirty_attempts.items()
                                if not key[0].startswith(group_id + ".")}
            s.dirty_groups.discard(group)
            del s.groups[group_id]
            s.dispatcher.remove_group(group_id)
            s.changed.notify_all()

    # -- settling ----------------------------------------------------------------------------------

    def take_settled(self) -> List[str]:
        """Groups that ran out of work since the last call (under the lock)."""
        s = self.state
        done = [gid for gid in s.settled if gid in s.groups and s.groups[gid].pending_work == 0
                and not s.groups[gid].active]
        s.settled.clear()
        for gid in done:
            self._settled[gid] = None
            self._settled.move_to_end(gid)
            s.dispatcher.remove_group(gid)
        while len(self._settled) > self.keep_settled:
            old, _ = self._settled.popitem(last=False)
            group = s.groups.get(old)
            if group is not None and group.pending_work == 0 and not group.active:
                del s.groups[old]
        return done

    def reopen(self, group_id: str) -> None:
        """A settled group has work again (retry): it is live and owned again (under the lock)."""
        self._settled.pop(group_id, None)

    def release(self, group_ids: List[str]) -> None:
        """Give up the owner rows of settled groups (worker thread or stop)."""
        for group_id in group_ids:
            with self.state.lock:
                if group_id not in self._settled:  # it has work again (retry) : still ours
                    continue
            try:
                self.owners.release(group_id)
            except JournalError as exc:  # the owner row goes stale: its heartbeat ages, others may take over
                log.warning("could not release group %s in the journal: %s", group_id[:8], exc)
            except Exception:
                log.exception("could not release group %s in the journal", group_id[:8])

    def release_all(self) -> None:
        with self.state.lock:
            ids = list(self.state.groups)
            for gid in ids:
                self._settled[gid] = None
        self.release(ids)
