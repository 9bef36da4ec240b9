"""The farm job's scheduling fields, where AWS Deadline Cloud reads them: `deadline:` parameter values.

`deadline bundle submit` reads `parameter_values.yaml`; a value whose name starts with
`deadline:` is not a job parameter but a CreateJob field (deadline-cloud,
`job_bundle/submission.py`, `split_parameter_args`: `targetTaskRunStatus`, `priority`,
`maxFailedTasksCount`, `maxRetriesPerTask`). Its Nuke submitter writes the same four, in this
order, with these defaults (deadline-cloud-for-nuke, `job_bundle_output_tests/*/expected_job_bundle/
parameter_values.yaml`): READY, 20, 5, 50. The defaults suit thin workers too: a task is a
cheap CPU client, and a retry renders only the frames still missing, so five retries cost
little and ride out a server restart; 20 failed tasks stop a job that cannot work before it
burns the queue. OpenJD itself (and `openjd run`) has no such fields: the template is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List

from nuke_comfyui.core.render_request import RequestError

PREFIX = "deadline:"
MAX_PRIORITY = 100  # Deadline Cloud job priority: 0 (lowest) to 100
MAX_COUNT = 2147483647  # CreateJob's maxFailedTasksCount / maxRetriesPerTask upper bound (int32)
READY, SUSPENDED = "READY", "SUSPENDED"


@dataclass
class Scheduling:
    """Priority, retries, failure limit and initial state of the farm job."""

    priority: int = 50
    max_retries_per_task: int = 5
    max_failed_tasks: int = 20
    suspended: bool = False

    def validate(self) -> None:
        if not 0 <= self.priority <= MAX_PRIORITY:
            raise RequestError(f"priority {self.priority} must be between 0 and {MAX_PRIORITY} "
                               "(Deadline Cloud's range; 50 is the usual default)")
        if not 0 <= self.max_retries_per_task <= MAX_COUNT:
            raise RequestError(f"max retries per task {self.max_retries_per_task} must be 0 or more")
        if not 0 <= self.max_failed_tasks <= MAX_COUNT:
            raise RequestError(f"max failed tasks {self.max_failed_tasks} must be 0 or more")

    @property
    def initial_state(self) -> str:
        return SUSPENDED if self.suspended else READY

    def parameter_values(self) -> List[Dict[str, Any]]:
        """The four `deadline:` entries of parameter_values.yaml, as deadline-cloud-for-nuke writes them."""
        self.validate()
        return [
            {"name": f"{PREFIX}targetTaskRunStatus", "value": self.initial_state},
            {"name": f"{PREFIX}maxFailedTasksCount", "value": self.max_failed_tasks},
            {"name": f"{PREFIX}maxRetriesPerTask", "value": self.max_retries_per_task},
            {"name": f"{PREFIX}priority", "value": self.priority},
        ]

    def describe(self) -> str:
        """One line for the artist: what the farm will do with the job."""
        return (f"priority {self.priority}, {self.max_retries_per_task} retries per task, fails after "
                f"{self.max_failed_tasks} failed tasks, starts {self.initial_state.lower()}")
