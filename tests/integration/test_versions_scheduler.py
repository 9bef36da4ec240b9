"""Render, cancel and resume on each ComfyUI protocol profile (0.3.40, 0.3.45, 0.8.2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.scheduler import GroupPlan, GroupState, JobState
from tests.integration.test_scheduler_sim import make_farm, request, wait_until, write_plates, write_workflow

pytestmark = pytest.mark.integration
PROFILES = ["0.3.40", "0.3.45", "0.8.2"]
OTHER = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "other"}},
}


@pytest.mark.parametrize("version", PROFILES)
def test_render_uses_and_journals_the_servers_ids_and_runs_each_frame_once(sim_cluster, tmp_path: Path,
                                                                          version: str) -> None:
    cluster = sim_cluster(2, comfy_version=version)
    pattern = write_plates(tmp_path / "plates", range(1, 7))
    with make_farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit_plan(request(tmp_path, write_workflow(tmp_path, steps=2), pattern, "1-6"))
        snap = farm.scheduler.wait(gid, timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    executed = [pid for s in cluster.servers for pid in s.executed_ids]
    assert len(executed) == 6  # nothing ran twice
    with Journal(tmp_path / "journal.sqlite3") as store:
        journaled = {r.prompt_id for r in store.jobs(gid)}
    assert journaled == set(executed)  # the journal holds the ids the servers know


@pytest.mark.parametrize("version", PROFILES)
def test_cancel_never_stops_another_artists_running_prompt(sim_cluster, tmp_path: Path, version: str) -> None:
    cluster = sim_cluster(1, comfy_version=version, hang_after=0)
    url = cluster.urls[0]
    other = requests.post(url + "/prompt", json={"prompt": OTHER, "client_id": "artist2"}, timeout=5).json()
    pattern = write_plates(tmp_path / "plates", range(1, 3))
    with make_farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit_plan(request(tmp_path, write_workflow(tmp_path, steps=2), pattern, "1-2"))
        client = farm.pool.client("sim0")

        def ours_pending_and_known() -> bool:
            # Before 0.3.45 the server names the prompt in its POST answer: wait until the scheduler has read
            # that answer, so the cancel below is the one that deletes it (not the submit that learns of it).
            known = {j.prompt_id for j in farm.scheduler.snapshot(gid).jobs if j.prompt_id}
            return bool(known & {i.prompt_id for i in client.queue().pending})

        wait_until(ours_pending_and_known)
        report = farm.scheduler.cancel(gid)
        queue = client.queue()
        assert [i.prompt_id for i in queue.running] == [other["prompt_id"]]  # still running, untouched
        assert queue.pending == []  # ours deleted
        assert report.deleted >= 1 and not report.left_running
        requests.post(url + "/interrupt", json={"prompt_id": other["prompt_id"]}, timeout=5)
        assert farm.scheduler.wait(gid, timeout=10).state is GroupState.CANCELLED


@pytest.mark.parametrize("version", PROFILES)
def test_cancel_interrupts_our_own_running_prompt(sim_cluster, tmp_path: Path, version: str) -> None:
    cluster = sim_cluster(1, comfy_version=version, hang_after=0)
    pattern = write_plates(tmp_path / "plates", range(1, 2))
    with make_farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit_plan(request(tmp_path, write_workflow(tmp_path, steps=2), pattern, "1-1"))
        wait_until(lambda: any(j.state is JobState.RUNNING for j in farm.scheduler.snapshot(gid).jobs))
        farm.scheduler.cancel(gid)
        client = farm.pool.client("sim0")
        wait_until(lambda: not client.queue().running, timeout=10)
    statuses = [e.status for e in cluster.servers[0].executions]
    assert statuses == ["interrupted"]


@pytest.mark.parametrize("version", PROFILES)
def test_resume_after_client_death_renders_nothing_twice(sim_cluster, tmp_path: Path, version: str) -> None:
    cluster = sim_cluster(2, comfy_version=version, seconds_per_step=0.02)
    pattern = write_plates(tmp_path / "plates", range(1, 7))
    journal = tmp_path / "journal.sqlite3"
    flow = write_workflow(tmp_path, steps=5)
    farm = make_farm(cluster, tmp_path, journal=journal)
    gid = farm.scheduler.submit_plan(request(tmp_path, flow, pattern, "1-6"))
    wait_until(lambda: farm.scheduler.snapshot(gid).done >= 2)
    farm.stop()

    def replan(journaled_request: Any, group_id: str) -> GroupPlan:
        return request(tmp_path, flow, pattern, "1-6")

    with make_farm(cluster, tmp_path, journal=journal, plan_factory=replan) as again:
        again.scheduler.resume(gid)
        snap = again.scheduler.wait(gid, timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    assert sum(s.prompt_count for s in cluster.servers) == 6


def test_resume_finds_a_prompt_journaled_under_our_id_on_an_old_server(sim_cluster, tmp_path: Path) -> None:
    """The process died after the POST but before it journaled the server's id: found by its mark."""
    cluster = sim_cluster(1, comfy_version="0.3.40", seconds_per_step=0.05)
    pattern = write_plates(tmp_path / "plates", range(1, 2))
    journal = tmp_path / "journal.sqlite3"
    flow = write_workflow(tmp_path, steps=20)
    farm = make_farm(cluster, tmp_path, journal=journal)
    gid = farm.scheduler.submit_plan(request(tmp_path, flow, pattern, "1-1"))
    wait_until(lambda: any(j.state is JobState.RUNNING for j in farm.scheduler.snapshot(gid).jobs))
    farm.stop()
    server_id = cluster.servers[0].executed_ids[0] if cluster.servers[0].executed_ids else None
    with Journal(journal) as store:
        row = store.jobs(gid)[0]
        attempts = store.attempts_of_group(gid)
    ours = _our_id_from_the_server(cluster.urls[0])
    assert ours and ours != row.prompt_id and server_id in (None, row.prompt_id)
    with Journal(journal) as store:  # rewind the journal to the moment before the answer came back
        row.prompt_id = ours
        for a in attempts:
            a.prompt_id = ours
        store.write(jobs=[row], attempts=attempts)

    def replan(journaled_request: Any, group_id: str) -> GroupPlan:
        return request(tmp_path, flow, pattern, "1-1")

    with make_farm(cluster, tmp_path, journal=journal, plan_factory=replan) as again:
        again.scheduler.resume(gid)
        snap = again.scheduler.wait(gid, timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    assert cluster.servers[0].prompt_count == 1  # found again, not sent again


def _our_id_from_the_server(url: str) -> str:
    """The mark our prompt carries in the server's queue or history (what resume searches)."""
    from nuke_comfyui.core.comfy.prompt_marks import mark_of

    queue = requests.get(url + "/queue", timeout=5).json()
    for item in queue["queue_running"] + queue["queue_pending"]:
        if mark_of(item):
            return str(mark_of(item))
    history = requests.get(url + "/history", timeout=5).json()
    for entry in history.values():
        if mark_of(entry["prompt"]):
            return str(mark_of(entry["prompt"]))
    return json.dumps(None)
