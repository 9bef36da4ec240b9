"""Job state machine, group aggregation and failure classification (no threads, no network)."""

from __future__ import annotations

import pytest
from scheduler_fakes import ExecutionFailure

from nuke_comfyui.core.errors import AuthError, PromptValidationError, ServerError, ServerUnavailable
from nuke_comfyui.core.scheduler.failures import Action, classify_execution_failure, classify_submit_error
from nuke_comfyui.core.scheduler.group import Group, GroupState
from nuke_comfyui.core.scheduler.jobs import InvalidTransition, Job, JobState


def _group(n: int) -> Group:
    group = Group("g" * 32, label="x", output_dir="/tmp")
    for i in range(n):
        group.add(Job(group, i, frame=i, variation=0, seed=i))
    return group


def test_transitions_are_checked_and_counted() -> None:
    group = _group(2)
    job = group.jobs[0]
    job.move(JobState.DISPATCHED)
    job.move(JobState.RUNNING)
    job.move(JobState.COMPLETED)
    with pytest.raises(InvalidTransition):
        job.move(JobState.RUNNING)
    assert group.counts[JobState.COMPLETED] == 1 and group.counts[JobState.QUEUED] == 1
    assert group.state is GroupState.RUNNING


@pytest.mark.parametrize(
    ("finals", "expected"),
    [
        ([JobState.COMPLETED, JobState.COMPLETED], GroupState.COMPLETED),
        ([JobState.COMPLETED, JobState.FAILED], GroupState.PARTIAL),
        ([JobState.FAILED, JobState.TIMEOUT], GroupState.FAILED),
        ([JobState.CANCELLED, JobState.CANCELLED], GroupState.CANCELLED),
    ],
)
def test_group_aggregate(finals: list, expected: GroupState) -> None:
    group = _group(2)
    for job, final in zip(group.jobs, finals):
        if final is not JobState.CANCELLED:
            job.move(JobState.DISPATCHED)
        job.move(final)
    assert group.state is expected
    assert group.fraction() == 1.0


def test_untouched_group_is_queued_and_has_no_eta() -> None:
    group = _group(3)
    assert group.state is GroupState.QUEUED and group.eta() is None and group.fraction() == 0.0


def test_eta_from_throughput() -> None:
    group = _group(4)
    group.first_dispatch = 100.0
    for job in group.jobs[:2]:
        job.move(JobState.DISPATCHED)
        job.move(JobState.COMPLETED)
    assert group.eta(now=110.0) == pytest.approx(10.0)


def test_submit_error_classes() -> None:
    assert classify_submit_error(PromptValidationError("bad", "a")).action is Action.FAIL
    lost = classify_submit_error(ServerUnavailable("refused", "a"))
    assert lost.action is Action.REQUEUE and lost.server_lost
    assert classify_submit_error(AuthError("401", "a")).action is Action.REQUEUE
    assert classify_submit_error(ServerError("500", "a")).action is Action.RETRY


def test_execution_failure_classes() -> None:
    oom = ExecutionFailure("3", "KSampler", "torch.OutOfMemoryError", "CUDA out of memory")
    assert classify_execution_failure(oom).action is Action.RETRY_MORE_VRAM
    msg = ExecutionFailure("3", "KSampler", "RuntimeError", "CUDA error: out of memory")
    assert classify_execution_failure(msg).action is Action.RETRY_MORE_VRAM
    other = classify_execution_failure(ExecutionFailure("7", "VAEDecode", "ValueError", "bad shape"))
    assert other.action is Action.RETRY and "node 7 (VAEDecode)" in other.message
    interrupted = ExecutionFailure("3", "KSampler", "InterruptProcessingException", "", True)
    assert classify_execution_failure(interrupted).action is Action.REQUEUE
