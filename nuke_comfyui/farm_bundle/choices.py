"""What the artist chooses when sending a render to the farm: one record for the dialog, headless and the CLI.

The Submit to farm dialog (ui/farm_dialog.py), `nuke -t headless.py --farm` and `nuke-comfyui
bundle` all take the same choices (layout, frames and variations per task, the scheduling
fields, where the bundle goes, submit or only save), so their flags are defined once here.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Optional

from nuke_comfyui.farm_bundle.scheduling import Scheduling


@dataclass
class FarmChoices:
    layout: str = "thin"
    frames_per_task: Optional[int] = None  # None: the request's chunk size
    variations_per_task: Optional[int] = None  # None: 1 without frames, all with frames
    scheduling: Scheduling = field(default_factory=Scheduling)
    bundle_dir: Optional[str] = None  # None: the caller's default folder
    submit: bool = False  # run `deadline bundle submit` after writing

    def validate(self) -> None:
        from nuke_comfyui.core.render_request import RequestError

        self.scheduling.validate()
        for name in ("frames_per_task", "variations_per_task"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise RequestError(f"{name.replace('_', ' ')} {value} must be 1 or more")


def add_scheduling_arguments(parser: argparse.ArgumentParser) -> None:
    """--priority, --max-retries, --max-failed-tasks, --suspended (written as `deadline:` parameter values)."""
    defaults = Scheduling()
    group = parser.add_argument_group("farm job (AWS Deadline Cloud reads these from the bundle)")
    group.add_argument("--priority", type=int, default=defaults.priority,
                       help=f"job priority, 0-100 (default {defaults.priority})")
    group.add_argument("--max-retries", type=int, default=defaults.max_retries_per_task,
                       help=f"retries of a failed task (default {defaults.max_retries_per_task})")
    group.add_argument("--max-failed-tasks", type=int, default=defaults.max_failed_tasks,
                       help=f"failed tasks before the job fails (default {defaults.max_failed_tasks})")
    group.add_argument("--suspended", action="store_true", help="submit the job suspended (start it by hand)")


def scheduling_from(args: argparse.Namespace) -> Scheduling:
    fields = Scheduling(priority=args.priority, max_retries_per_task=args.max_retries,
                        max_failed_tasks=args.max_failed_tasks, suspended=args.suspended)
    fields.validate()
    return fields
