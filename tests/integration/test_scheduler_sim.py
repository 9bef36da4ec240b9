"""The scheduler end to end on the simulator: real HTTP, WebSockets, files and faults on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest
from PIL import Image

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.journal import Journal
from nuke_comfyui.core.pool import ServerPool
from nuke_comfyui.core.scheduler import GroupPlan, GroupState, JobSpec, JobState, Scheduler
from nuke_comfyui.core.scheduler.plan import filename_prefix

pytestmark = pytest.mark.integration

WORKFLOW: Dict[str, Any] = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sim-model.safetensors"}},
    "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["1", 1]}},
    "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
    "4": {"class_type": "LoadImage", "inputs": {"image": "plate.png"}},
    "5": {"class_type": "VAEEncode", "inputs": {"pixels": ["4", 0], "vae": ["1", 2]}},
    "6": {"class_type": "KSampler", "inputs": {
        "model": ["1", 0], "seed": 0, "steps": 4, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal",
        "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["5", 0], "denoise": 0.5}},
    "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
    "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "nuke"}},
}


def write_workflow(folder: Path, steps: int = 4, **changes: Any) -> Path:
    flow = json.loads(json.dumps(WORKFLOW))
    flow["6"]["inputs"]["steps"] = steps
    for node_input, value in changes.items():
        node, name = node_input.split("__")
        flow[node]["inputs"][name] = value
    path = folder / "flow.json"
    path.write_text(json.dumps(flow))
    return path


def write_plates(folder: Path, frames: range, size: int = 16) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for f in frames:
        Image.new("RGB", (size, size), (f % 255, 40, 90)).save(folder / f"plate.{f:04d}.png")
    return str(folder / "plate.####.png")


def make_farm(cluster: Any, tmp_path: Path, *, timeout: float = 30.0, retries: int = 2,
              journal: Optional[Path] = None, start: bool = True, plan_factory: Any = None) -> Farm:
    servers = [ServerConfig(name=f"sim{i}", url=url) for i, url in enumerate(cluster.urls)]
    config = ClusterConfig(servers=servers, job_timeout=timeout, retries=retries, poll_interval=0.2)
    pool = ServerPool(config)
    store = Journal(journal or tmp_path / "journal.sqlite3")
    farm = Farm(pool, store, Scheduler(pool, store, poll_interval=0.1, plan_factory=plan_factory))
    return farm.start() if start else farm


def request(
    tmp_path: Path, workflow: Path, pattern: Optional[str], frames: Optional[str], *,
    variations: int = 1, base_seed: int = 0, **_: Any
) -> GroupPlan:
    """A hand-built plan (frames x variations) so these tests exercise only the scheduler."""
    first, last = (int(x) for x in (frames or "1-1").split("-"))
    specs = []
    for variation in range(variations):
        for frame in range(first, last + 1):
            path = pattern.replace("####", f"{frame:04d}") if pattern else None
            specs.append(JobSpec(len(specs), frame, variation, base_seed * 1_000_003 + variation * 7919 + 1,
                                 input_path=path))
    template = json.loads(workflow.read_text())

    def build(plan: GroupPlan, job: Any, image: Optional[str]) -> Dict[str, Any]:
        prompt = plan.template()
        prompt["6"]["inputs"]["seed"] = job.seed
        if image is not None:
            prompt["4"]["inputs"]["image"] = image
        prompt["8"]["inputs"]["filename_prefix"] = filename_prefix(gid_of(plan), job.index, len(job.attempts))
        return prompt

    plan = GroupPlan(label="shot", output_dir=str(tmp_path / "out"), specs=specs,
                     template_json=json.dumps(template), build_prompt=build,
                     placement={"class_types": {n["class_type"] for n in template.values()}, "duration_key": "k"},
                     output_nodes=("8",))
    return plan


def gid_of(plan: GroupPlan) -> str:
    assert plan.layout is not None
    return plan.layout.folder.name.rsplit("_", 1)[-1]


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def _frames_of(paths: List[str]) -> List[int]:
    return sorted(int(Path(p).name.split(".")[-2]) for p in paths)


def test_24_frames_over_3_servers(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(3)
    pattern = write_plates(tmp_path / "plates", range(1001, 1025))
    with make_farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit_plan(request(tmp_path, write_workflow(tmp_path), pattern, "1001-1024"))
        snap = farm.scheduler.wait(gid, timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    outputs = [p for j in snap.jobs for p in j.outputs]
    assert _frames_of(outputs) == list(range(1001, 1025))
    assert all(Path(p).is_file() and Path(p).name.startswith("shot_var01.") for p in outputs)
    assert {j.server for j in snap.jobs} == {"sim0", "sim1", "sim2"}
    assert sum(s.prompt_count for s in cluster.servers) == 24
    assert snap.sequences and snap.sequences[0].first == 1001 and snap.sequences[0].last == 1024


def test_crashing_server_every_frame_exactly_once(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(3, crash_after=[None, 3, None], speeds=[1, 3, 1])  # sim1 fastest: it gets a third prompt
    pattern = write_plates(tmp_path / "plates", range(1, 13))
    with make_farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit_plan(request(tmp_path, write_workflow(tmp_path), pattern, "1-12"))
        snap = farm.scheduler.wait(gid, timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    files = sorted((tmp_path / "out").rglob("*.png"))
    assert _frames_of([str(f) for f in files]) == list(range(1, 13))
    assert any(a.outcome == "lost" for j in snap.jobs for a in j.attempt_log)
    assert all(j.server != "sim1" or j.attempt_log[-1].server == "sim1" for j in snap.jobs)


def test_hanging_server_times_out_and_job_finishes_elsewhere(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(2, hang_after=[0, None])
    pattern = write_plates(tmp_path / "plates", range(1, 5))
    with make_farm(cluster, tmp_path, timeout=1.0) as farm:
        gid = farm.scheduler.submit_plan(request(tmp_path, write_workflow(tmp_path), pattern, "1-4"))
        snap = farm.scheduler.wait(gid, timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    timed_out = [j for j in snap.jobs if any(a.outcome == "timeout" for a in j.attempt_log)]
    assert timed_out and all(j.server == "sim1" for j in timed_out)


def test_validation_error_reported_per_job_without_retry(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(2)
    pattern = write_plates(tmp_path / "plates", range(1, 4))
    flow = write_workflow(tmp_path, **{"1__ckpt_name": "missing-model.safetensors"})
    with make_farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit_plan(request(tmp_path, flow, pattern, "1-3"))
        snap = farm.scheduler.wait(gid, timeout=30)
    assert snap.state is GroupState.FAILED
    for job in snap.jobs:
        assert job.state is JobState.FAILED and job.attempts == 1
        assert "ckpt_name" in (job.error or "")
    assert sum(s.prompt_count for s in cluster.servers) == 0


def test_cancel_leaves_nothing_on_any_server(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(2, seconds_per_step=0.05)
    pattern = write_plates(tmp_path / "plates", range(1, 21))
    with make_farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit_plan(request(tmp_path, write_workflow(tmp_path, steps=20), pattern, "1-20"))
        wait_until(lambda: any(j.state is JobState.RUNNING for j in farm.scheduler.snapshot(gid).jobs))
        farm.scheduler.cancel(gid)
        clients = [farm.pool.client(s.name) for s in farm.pool.servers()]

        def idle() -> bool:
            snaps = [c.queue() for c in clients]
            return all(not q.running and not q.pending for q in snaps)

        wait_until(idle, timeout=10)
        snap = farm.scheduler.wait(gid, timeout=10)
    assert snap.state is GroupState.CANCELLED
    assert sum(s.prompt_count for s in cluster.servers) <= 2 * 2 + 2  # only what had room was ever sent


def test_resume_after_client_death_renders_nothing_twice(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(2, seconds_per_step=0.02)
    pattern = write_plates(tmp_path / "plates", range(1, 11))
    journal = tmp_path / "journal.sqlite3"
    flow = write_workflow(tmp_path, steps=5)
    farm = make_farm(cluster, tmp_path, journal=journal)
    gid = farm.scheduler.submit_plan(request(tmp_path, flow, pattern, "1-10"))
    wait_until(lambda: farm.scheduler.snapshot(gid).done >= 3)
    farm.stop()  # the client dies mid-group; its prompts keep running on the servers
    with Journal(journal) as left_behind:
        in_flight = [r for r in left_behind.jobs(gid) if r.state in ("dispatched", "running")]
    assert in_flight and all(r.prompt_id for r in in_flight)  # resume has prompts to re-attach to
    sent_before = sum(s.prompt_count for s in cluster.servers)
    assert sent_before < 10 + 1

    def replan(journaled_request: Any, group_id: str) -> GroupPlan:
        return request(tmp_path, flow, pattern, "1-10")

    with make_farm(cluster, tmp_path, journal=journal, plan_factory=replan) as again:
        again.scheduler.resume(gid)
        snap = again.scheduler.wait(gid, timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    assert sum(s.prompt_count for s in cluster.servers) == 10  # each frame rendered once in total
    files = sorted((tmp_path / "out").rglob("*.png"))
    assert _frames_of([str(f) for f in files]) == list(range(1, 11))


def test_seeds_identical_across_reruns_and_retries(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(3, fail_rate=[0.0, 0.6, 0.0])
    flow = write_workflow(tmp_path)
    pattern = write_plates(tmp_path / "plates", range(1, 3))
    results = []
    with make_farm(cluster, tmp_path, retries=4) as farm:
        for _ in range(2):
            gid = farm.scheduler.submit_plan(request(tmp_path, flow, pattern, "1-2", variations=3, base_seed=7))
            results.append(farm.scheduler.wait(gid, timeout=60))
    first, second = ({(j.frame, j.variation): j for j in snap.jobs} for snap in results)
    assert all(s.state is GroupState.COMPLETED for s in results)
    assert {k: j.seed for k, j in first.items()} == {k: j.seed for k, j in second.items()}
    assert len({j.seed for j in first.values()}) == 3
    for key in first:
        with Image.open(first[key].outputs[0]) as a, Image.open(second[key].outputs[0]) as b:
            assert a.tobytes() == b.tobytes()  # same pixels (metadata holds the group's own prefix)


def test_out_of_memory_moves_to_the_bigger_gpu(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(2, vram_gb=[0.5, 4.0])
    pattern = write_plates(tmp_path / "plates", range(1, 5), size=512)
    with make_farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit_plan(request(tmp_path, write_workflow(tmp_path), pattern, "1-4"))
        snap = farm.scheduler.wait(gid, timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    assert {j.server for j in snap.jobs} == {"sim1"}


def test_dropped_event_streams_fall_back_to_polling(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(2, drop_ws_after=2)
    pattern = write_plates(tmp_path / "plates", range(1, 9))
    with make_farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit_plan(request(tmp_path, write_workflow(tmp_path), pattern, "1-8"))
        snap = farm.scheduler.wait(gid, timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    assert sum(s.prompt_count for s in cluster.servers) == 8
    assert _frames_of([p for j in snap.jobs for p in j.outputs]) == list(range(1, 9))


def test_render_request_end_to_end_with_variations(sim_cluster, tmp_path: Path) -> None:
    """The production path: RenderRequest -> plan (workflow patching, seeds) -> files."""
    from nuke_comfyui.core.render_request import RenderRequest

    cluster = sim_cluster(3)
    pattern = write_plates(tmp_path / "plates", range(1001, 1005))
    req = RenderRequest(workflow_path=str(write_workflow(tmp_path)), output_dir=str(tmp_path / "out"),
                        input_pattern=pattern, frames="1001-1004", variations=2, seed_strategy="sequential",
                        base_seed=40, label="shot")
    with make_farm(cluster, tmp_path) as farm:
        gid = farm.scheduler.submit(req)
        snap = farm.scheduler.wait(gid, timeout=60)
        again = farm.scheduler.wait(farm.scheduler.submit(req), timeout=60)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    assert sorted({(j.variation, j.seed) for j in snap.jobs}) == [(0, 40), (1, 41)]
    assert [(j.frame, j.variation, j.seed) for j in snap.jobs] == [(j.frame, j.variation, j.seed) for j in again.jobs]
    folder = tmp_path / "out" / f"shot_{gid[:8]}"
    for v in ("var01", "var02"):
        names = sorted(p.name for p in (folder / v).glob("*.png"))
        assert names == [f"shot_{v}.{f}.png" for f in range(1001, 1005)]
    assert [(s.variation, s.first, s.last) for s in snap.sequences] == [(0, 1001, 1004), (1, 1001, 1004)]
    assert snap.sequences[0].pattern == str(folder / "var01" / "shot_var01.%04d.png")


def test_cancel_command_cleans_up_a_group_left_by_a_dead_client(sim_cluster, tmp_path: Path) -> None:
    from nuke_comfyui.cli.main import main

    cluster = sim_cluster(2, seconds_per_step=0.05)
    pattern = write_plates(tmp_path / "plates", range(1, 11))
    journal = tmp_path / "journal.sqlite3"
    farm = make_farm(cluster, tmp_path, journal=journal)
    gid = farm.scheduler.submit_plan(request(tmp_path, write_workflow(tmp_path, steps=40), pattern, "1-10"))
    wait_until(lambda: any(j.state is JobState.RUNNING for j in farm.scheduler.snapshot(gid).jobs))
    clients = [farm.pool.client(s.name) for s in farm.pool.servers()]
    farm.stop()  # the client dies; its prompts stay queued and running on the servers
    assert any(c.queue().running or c.queue().pending for c in clients)

    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": f"sim{i}", "url": u} for i, u in enumerate(cluster.urls)]}))
    assert main(["cancel", gid[:8], "--config", str(config), "--journal", str(journal)]) == 0

    def idle() -> bool:
        return all(not q.running and not q.pending for q in (c.queue() for c in clients))

    wait_until(idle, timeout=10)
    with Journal(journal) as store:
        assert store.group(gid).state == "cancelled"
        assert {r.state for r in store.jobs(gid)} <= {"cancelled", "completed"}


def test_listening_names_the_servers_whose_stream_is_up(sim_cluster, tmp_path: Path) -> None:
    """What `bench` waits for before its clock starts (bench/pull.py), like push waits for its streams."""
    cluster = sim_cluster(2)
    with make_farm(cluster, tmp_path) as farm:
        wait_until(lambda: sorted(farm.scheduler.listening()) == ["sim0", "sim1"])
        cluster.servers[1].crash()
        wait_until(lambda: farm.scheduler.listening() == ["sim0"])
