"""Scheduling of job groups over a ServerPool: pull-based dispatch, failures, journal, results.

The public surface is re-exported here; see `scheduler.py` for the threading model and
`results.py` for the output file layout.
"""

from __future__ import annotations

from nuke_comfyui.core.scheduler.events import (
    GroupChanges,
    GroupProgress,
    GroupReport,
    GroupSnapshot,
    GroupUpdated,
    GroupView,
    JobSnapshot,
    JobUpdated,
    OutputSequence,
    SchedulerEvent,
)
from nuke_comfyui.core.scheduler.group import GroupState
from nuke_comfyui.core.scheduler.jobs import JobState
from nuke_comfyui.core.scheduler.plan import GroupPlan, JobSpec
from nuke_comfyui.core.scheduler.scheduler import Scheduler

__all__ = [
    "GroupChanges",
    "GroupPlan",
    "GroupProgress",
    "GroupReport",
    "GroupSnapshot",
    "GroupState",
    "GroupUpdated",
    "GroupView",
    "JobSnapshot",
    "JobSpec",
    "JobState",
    "JobUpdated",
    "OutputSequence",
    "Scheduler",
    "SchedulerEvent",
]
