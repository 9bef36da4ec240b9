"""The live view end to end: a farm on simulated servers with previews, another artist on the same
server, and nobody (or somebody) watching.

Another artist's prompt queued *without* a client id is the hard case: ComfyUI then broadcasts its
progress, progress_state and type 1 previews to every socket, ours included. None of it may ever
reach one of our cards, on a server that gives previews metadata (0.8) or not (0.3.40).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import requests

from nuke_comfyui.core import comfy
from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.scheduler import GroupState

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json"


def workflow_text(steps: int, seed: Optional[int] = None) -> str:
    """The example txt2img workflow with `steps` sampler steps (and a fixed seed, if given)."""
    flow: Dict[str, Any] = json.loads(EXAMPLE.read_text())
    for node in flow.values():
        if "steps" in node["inputs"]:
            node["inputs"]["steps"] = steps
        for key in ("seed", "noise_seed"):
            if key in node["inputs"] and seed is not None:
                node["inputs"][key] = seed
    return json.dumps(flow)


def workflow(folder: Path, steps: int) -> Path:
    path = folder / "flow.json"
    path.write_text(workflow_text(steps))
    return path


def farm_on(cluster: Any, tmp_path: Path) -> Farm:
    servers = [ServerConfig(name=f"gpu{i}", url=url) for i, url in enumerate(cluster.urls)]
    config = ClusterConfig(servers=servers, poll_interval=0.2)
    return Farm.from_config(config, journal_path=str(tmp_path / "journal.sqlite3")).start()


def record_previews(farm: Farm) -> List[Tuple[str, str]]:
    """(job id, prompt id) of every preview the board keeps, recorded as it is kept."""
    kept: List[Tuple[str, str]] = []
    board = farm.scheduler.live
    real = board.preview
    lock = threading.Lock()

    def recording(job: Any, prompt_id: str, mime: str, data: bytes) -> None:
        with lock:
            kept.append((job.id, prompt_id))
        real(job, prompt_id, mime, data)

    board.preview = recording  # type: ignore[method-assign]
    return kept


def another_artist(url: str, steps: int) -> str:
    """A long prompt queued with no client id (its messages and previews go to every socket)."""
    prompt = json.loads(workflow_text(steps, seed=987_654))
    response = requests.post(f"{url}/prompt", json={"prompt": prompt}, timeout=5)
    response.raise_for_status()
    return str(response.json()["prompt_id"])



@pytest.mark.parametrize("version", ["0.8.0", "0.3.40"])
def test_previews_reach_our_jobs_only(sim_cluster: Any, tmp_path: Path, version: str) -> None:
    steps, variations = 5, 3
    cluster = sim_cluster(1, previews="latent2rgb", comfy_version=version, seconds_per_step=0.01)
    farm = farm_on(cluster, tmp_path)
    try:
        kept = record_previews(farm)
        release = farm.scheduler.live.watch(previews=True)
        theirs = another_artist(cluster.urls[0], steps=8)  # runs first: its previews reach our socket
        request = RenderRequest(workflow_path=str(workflow(tmp_path, steps)), output_dir=str(tmp_path / "out"),
                                variations=variations, seed_strategy="sequential", base_seed=10)
        group_id = farm.scheduler.submit(request)
        snapshot = farm.scheduler.wait(group_id, timeout=60)
        release()
    finally:
        farm.stop()
    assert snapshot.state is GroupState.COMPLETED
    ours = {job.job_id: job.prompt_id for job in snapshot.jobs}
    assert theirs not in {pid for _, pid in kept}
    assert all(ours[job_id] == pid for job_id, pid in kept)
    # every step of every job of ours was seen (one server runs one prompt at a time, so even a
    # preview without metadata has exactly one candidate)
    assert sorted({job_id for job_id, _ in kept}) == sorted(ours)
    assert len(kept) == steps * variations


def test_nobody_watching_keeps_nothing_and_parses_nothing(sim_cluster: Any, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from nuke_comfyui.core.comfy import node_progress, previews

    parsed: List[str] = []
    real_preview, real_state = previews.parse_preview, node_progress.parse_progress_state
    monkeypatch.setattr(previews, "parse_preview", lambda *a: parsed.append("preview") or real_preview(*a))
    monkeypatch.setattr(comfy.events, "parse_progress_state",
                        lambda *a: parsed.append("progress_state") or real_state(*a))
    cluster = sim_cluster(2, previews="taesd", seconds_per_step=0.005)
    farm = farm_on(cluster, tmp_path)
    try:
        kept = record_previews(farm)
        request = RenderRequest(workflow_path=str(workflow(tmp_path, 4)), output_dir=str(tmp_path / "out"),
                                variations=4, seed_strategy="sequential", base_seed=1)
        snapshot = farm.scheduler.wait(farm.scheduler.submit(request), timeout=60)
        statuses = farm.scheduler.live.statuses()
    finally:
        farm.stop()
    assert snapshot.state is GroupState.COMPLETED
    assert kept == [] and parsed == [] and statuses == []
    assert all(farm.scheduler.live.features(f"gpu{i}") is None for i in range(2))  # streams stopped


def test_status_names_the_node_and_step_while_a_job_runs(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(1, seconds_per_step=0.03)
    farm = farm_on(cluster, tmp_path)
    seen: List[str] = []
    try:
        release = farm.scheduler.live.watch()
        request = RenderRequest(workflow_path=str(workflow(tmp_path, 10)), output_dir=str(tmp_path / "out"),
                                variations=1, base_seed=3)
        group_id = farm.scheduler.submit(request)
        deadline = time.monotonic() + 30
        while farm.scheduler.summary(group_id).done < 1 and time.monotonic() < deadline:
            seen += [s.text for s in farm.scheduler.live.statuses(group_id)]
            running = farm.scheduler.prompts_by_server().get("gpu0", [])
            if running and running[0].running:
                seen.append(f"ours: {running[0].label} v{running[0].variation}")
            time.sleep(0.01)
        release()
    finally:
        farm.stop()
    steps = [text for text in seen if text.startswith("KSampler")]
    assert any(text.endswith("/10") for text in steps), seen
    assert any(text.startswith("ours: ") for text in seen)
    assert farm.scheduler.live.statuses(group_id) == []  # gone with the prompt


def asked_preview_methods(url: str, prompt_ids: List[str]) -> Dict[str, Any]:
    """What each of our prompts asked the server for, read back from its history (extra_data):
    prompt id -> preview_method, or None when the prompt kept the server's own setting."""
    from nuke_comfyui.core.comfy.prompt_marks import MARK_KEY

    history = requests.get(f"{url}/history", timeout=5).json()
    asked = {}
    for pid in prompt_ids:
        extra = history[pid]["prompt"][3]
        assert isinstance(extra.get(MARK_KEY), str)  # our prompt-id mark still travels beside the request
        asked[pid] = extra.get("preview_method")
    return asked


@pytest.mark.parametrize(("version", "previews_made"), [("0.8.0", False), ("0.3.40", True)])
def test_a_process_that_cannot_show_previews_asks_the_servers_for_none(
        sim_cluster: Any, tmp_path: Path, version: str, previews_made: bool) -> None:
    """The CLI and `nuke -t` build their farm with previews=False: a 0.5+ server makes no previews
    for their prompts (still sending node progress); an older one ignores the request."""
    steps, variations = 4, 2
    cluster = sim_cluster(1, previews="taesd", comfy_version=version, seconds_per_step=0.02)
    servers = [ServerConfig(name="gpu0", url=cluster.urls[0])]
    farm = Farm.from_config(ClusterConfig(servers=servers, poll_interval=0.2),
                            journal_path=str(tmp_path / "journal.sqlite3"), previews=False).start()
    seen: List[str] = []
    try:
        assert farm.scheduler.previews is False
        kept = record_previews(farm)
        release = farm.scheduler.live.watch(previews=True)  # as if a panel looked anyway
        request = RenderRequest(workflow_path=str(workflow(tmp_path, steps)), output_dir=str(tmp_path / "out"),
                                variations=variations, seed_strategy="sequential", base_seed=21)
        group_id = farm.scheduler.submit(request)
        deadline = time.monotonic() + 60
        while farm.scheduler.summary(group_id).done < variations and time.monotonic() < deadline:
            seen += [s.text for s in farm.scheduler.live.statuses(group_id)]
            time.sleep(0.005)
        snapshot = farm.scheduler.wait(group_id, timeout=60)
        release()
    finally:
        farm.stop()
    assert snapshot.state is GroupState.COMPLETED
    ours = [job.prompt_id for job in snapshot.jobs]
    assert asked_preview_methods(cluster.urls[0], ours) == {pid: "none" for pid in ours}
    assert len(kept) == (steps * variations if previews_made else 0)
    assert any(text.startswith("KSampler") and text.endswith(f"/{steps}") for text in seen), seen


def test_a_session_that_may_show_previews_keeps_the_servers_setting(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(1, previews="latent2rgb", seconds_per_step=0.005)
    farm = farm_on(cluster, tmp_path)  # Farm.from_config's default: a Nuke GUI, the monitor
    try:
        assert farm.scheduler.previews is True
        kept = record_previews(farm)
        release = farm.scheduler.live.watch(previews=True)
        request = RenderRequest(workflow_path=str(workflow(tmp_path, 3)), output_dir=str(tmp_path / "out"),
                                variations=2, seed_strategy="sequential", base_seed=5)
        snapshot = farm.scheduler.wait(farm.scheduler.submit(request), timeout=60)
        release()
    finally:
        farm.stop()
    ours = [job.prompt_id for job in snapshot.jobs]
    assert asked_preview_methods(cluster.urls[0], ours) == {pid: None for pid in ours}
    assert len(kept) == 3 * 2
