"""jobs.py and group.py no longer import each other: a job knows its group only by the JobGroup contract."""

from __future__ import annotations

import ast
from pathlib import Path

from nuke_comfyui.core.scheduler.group import Group
from nuke_comfyui.core.scheduler.jobs import Job, JobGroup, JobState

SCHEDULER = Path(__file__).resolve().parents[3] / "nuke_comfyui" / "core" / "scheduler"


def imported_modules(path: Path) -> set:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_jobs_does_not_import_group_even_for_type_checking() -> None:
    assert "nuke_comfyui.core.scheduler.group" not in imported_modules(SCHEDULER / "jobs.py")
    assert "nuke_comfyui.core.scheduler.jobs" in imported_modules(SCHEDULER / "group.py")


def test_a_group_is_what_its_jobs_need() -> None:
    group = Group("g" * 32, label="shot", output_dir="/o")
    contract: JobGroup = group  # mypy checks the structure; this checks every member is there at run time
    for name in ("id", "plan", "timeout", "cancel_requested", "first_dispatch", "by_id", "active", "ready",
                 "constrained", "count_move", "touch"):
        assert hasattr(contract, name), name
    job = Job(group, 0, frame=1, variation=0, seed=5)
    group.add(job)
    job.move(JobState.DISPATCHED)
    assert group.counts[JobState.DISPATCHED] == 1 and group.counts[JobState.QUEUED] == 0
