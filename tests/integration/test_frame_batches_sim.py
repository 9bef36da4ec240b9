"""Frame batches end to end on the simulator: chunks spread over servers, seams blended pixel for
pixel, every frame exactly once, a wrong image count named, servers chosen by what they can join."""

from __future__ import annotations

import json
import urllib.request
from fractions import Fraction
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
from PIL import Image

from nuke_comfyui.blend import PixelBlender
from nuke_comfyui.core.chunk_plan import ChunkPlan
from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.errors import NoCapableServer
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.scheduler import GroupState, JobState
from nuke_comfyui.sim.batch_nodes import temporal_smooth

pytestmark = pytest.mark.integration
TEMPORAL = Path(__file__).resolve().parent / "data" / "temporal_smooth_sim.json"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def plate(tmp_path: Path, frames: range, size: int = 12) -> str:
    """A plate whose frames differ a lot from one another, so a temporal node's seams show."""
    folder = tmp_path / "plates"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(7)
    for frame in frames:
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"plate.{frame:04d}.png")
    return str(folder / "plate.####.png")


def farm_on(cluster: Any, tmp_path: Path, **cluster_options: Any) -> Farm:
    servers = [ServerConfig(name=f"gpu{i}", port=port) for i, port in enumerate(cluster.ports)]
    config = ClusterConfig(servers=servers, poll_interval=0.1, **cluster_options)
    return Farm.from_config(config, journal_path=tmp_path / "journal.sqlite3", blender=PixelBlender())


def request(tmp_path: Path, pattern: str, **changes: Any) -> RenderRequest:
    values: Dict[str, Any] = {"workflow_path": str(TEMPORAL), "output_dir": str(tmp_path / "out"),
                              "input_pattern": pattern, "frames": "1-20", "chunk_size": 8, "overlap": 2,
                              "label": "shot"}
    values.update(changes)
    return RenderRequest(**values)


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.float64)


def chunk_render(pattern: str, frames: tuple) -> List[np.ndarray]:
    """What the simulator's temporal node makes of one chunk (the same function, on the same inputs)."""
    inputs = [Image.open(pattern.replace("####", f"{f:04d}")).convert("RGB") for f in frames]
    (out,), _ = temporal_smooth(None, image=inputs)  # type: ignore[arg-type]
    return [np.asarray(img, dtype=np.float64) for img in out]


def _history(url: str) -> Dict[str, Any]:
    with urllib.request.urlopen(f"{url}/history") as answer:  # the prompts as the server received them
        data: Dict[str, Any] = json.load(answer)
    return data


def frames_on_disk(snapshot: Any) -> List[int]:
    return sorted(f for seq in snapshot.sequences for f in seq.frames_done)


def test_chunks_spread_over_servers_and_seams_are_the_weighted_blend_pixel_for_pixel(
        sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(2)
    pattern = plate(tmp_path, range(1, 21))
    with farm_on(cluster, tmp_path) as farm:
        snapshot = farm.scheduler.wait(farm.scheduler.submit(request(tmp_path, pattern)), timeout=60)
    assert snapshot.state is GroupState.COMPLETED, [j.error for j in snapshot.jobs]
    assert len(snapshot.jobs) == 3 and {j.server for j in snapshot.jobs} == {"gpu0", "gpu1"}
    assert sum(s.prompt_count for s in cluster.servers) == 3  # one prompt per chunk, none twice
    assert frames_on_disk(snapshot) == list(range(1, 21))  # every frame exactly once
    (sequence,) = snapshot.sequences
    folder = Path(sequence.pattern).parent
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [f"shot_var01.{f:04d}.png" for f in range(1, 21)]
    assert not list((folder / ".seams").iterdir())  # renders kept aside are gone once blended

    plan = ChunkPlan(range(1, 21), 8, 2)
    renders = {c.index: dict(zip(c.frames, chunk_render(pattern, c.frames))) for c in plan.chunks}
    for frame in range(1, 21):
        expected = sum(renders[c][frame] / 255.0 * float(w) for c, w in plan.weights(frame))
        got = rgb(folder / f"shot_var01.{frame:04d}.png")
        assert np.array_equal(got, np.clip(np.rint(expected * 255.0), 0, 255)), frame
    # the seam really is a blend: frame 8 is 1/3 of chunk 0's render and 2/3 of chunk 1's, and the
    # two renders differ (the temporal node saw different neighbours)
    assert plan.weights(8) == [(0, Fraction(1, 3)), (1, Fraction(2, 3))]
    assert not np.array_equal(renders[0][8], renders[1][8])


def test_cut_takes_the_later_chunks_frames_and_fetches_nothing_to_blend(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(1)
    pattern = plate(tmp_path, range(1, 21))
    with farm_on(cluster, tmp_path) as farm:
        snapshot = farm.scheduler.wait(farm.scheduler.submit(request(tmp_path, pattern, seam="cut")), timeout=60)
    assert snapshot.state is GroupState.COMPLETED
    folder = Path(snapshot.sequences[0].pattern).parent
    later = dict(zip(range(7, 15), chunk_render(pattern, tuple(range(7, 15)))))
    for frame in (7, 8):
        assert np.array_equal(rgb(folder / f"shot_var01.{frame:04d}.png"), later[frame])
    assert not (folder / ".seams").exists()


def test_a_chunk_returning_another_count_is_a_named_error_and_not_retried(sim_cluster: Any, tmp_path: Path) -> None:
    workflow = json.loads((EXAMPLES / "invert.json").read_text())
    workflow["4"] = {"class_type": "ImageFromBatch", "inputs": {"image": ["2", 0], "batch_index": 0, "length": 3}}
    workflow["3"]["inputs"]["images"] = ["4", 0]
    path = tmp_path / "drops_frames.json"
    path.write_text(json.dumps(workflow))
    cluster = sim_cluster(1)
    pattern = plate(tmp_path, range(1, 9))
    with farm_on(cluster, tmp_path) as farm:
        made = request(tmp_path, pattern, workflow_path=str(path), frames="1-8", chunk_size=4, overlap=0)
        snapshot = farm.scheduler.wait(farm.scheduler.submit(made), timeout=60)
    assert snapshot.state is GroupState.FAILED
    errors = {j.error for j in snapshot.jobs}
    assert errors == {"chunk 1 (frames 1-4, var01): output node 3 returned 3 images for 4 frames; the workflow must "
                      "keep one image per input frame (check nodes that add, drop or repeat frames)",
                      "chunk 2 (frames 5-8, var01): output node 3 returned 3 images for 4 frames; the workflow must "
                      "keep one image per input frame (check nodes that add, drop or repeat frames)"}
    assert cluster.servers[0].prompt_count == 2  # no retry: every server would answer the same
    assert not list((tmp_path / "out").rglob("*.png"))  # nothing shifted onto the wrong frames


def test_each_server_joins_the_batch_with_what_it_has(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(2, missing_nodes=["BatchImagesNode", None])
    pattern = plate(tmp_path, range(1, 13))
    with farm_on(cluster, tmp_path) as farm:
        made = request(tmp_path, pattern, workflow_path=str(EXAMPLES / "invert.json"), frames="1-12",
                       chunk_size=3, overlap=0, strategy="round-robin")
        snapshot = farm.scheduler.wait(farm.scheduler.submit(made), timeout=60)
    assert snapshot.state is GroupState.COMPLETED and {j.server for j in snapshot.jobs} == {"gpu0", "gpu1"}
    joiners = [{node["class_type"] for entry in _history(s.url).values() for node in entry["prompt"][2].values()}
               for s in cluster.servers]
    assert "ImageBatch" in joiners[0] and "BatchImagesNode" not in joiners[0]
    assert "BatchImagesNode" in joiners[1]
    folder = Path(snapshot.sequences[0].pattern).parent
    for frame in range(1, 13):
        source = rgb(Path(pattern.replace("####", f"{frame:04d}")))
        assert np.array_equal(rgb(folder / f"shot_var01.{frame:04d}.png"), 255 - source), frame


def test_a_farm_that_cannot_join_batches_is_refused_by_name(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(1, missing_nodes="BatchImagesNode+ImageBatch")
    pattern = plate(tmp_path, range(1, 5))
    with farm_on(cluster, tmp_path) as farm:
        made = request(tmp_path, pattern, workflow_path=str(EXAMPLES / "invert.json"), frames="1-4",
                       chunk_size=2, overlap=0)
        with pytest.raises(NoCapableServer, match="gpu0 has none of BatchImagesNode / ImageBatch"):
            farm.scheduler.submit(made)


def test_a_chunk_too_big_for_a_servers_vram_is_reported_as_out_of_memory(sim_cluster: Any, tmp_path: Path) -> None:
    # 8 frames of 64x64 hold 0.033 megapixels: 0.13 GB at 4 GB per megapixel, over a 0.1 GB card
    cluster = sim_cluster(1, vram_gb=0.1)
    pattern = plate(tmp_path, range(1, 9), size=64)
    with farm_on(cluster, tmp_path) as farm:
        made = request(tmp_path, pattern, frames="1-8", chunk_size=8, overlap=0)
        snapshot = farm.scheduler.wait(farm.scheduler.submit(made), timeout=60)
    (job,) = snapshot.jobs
    assert job.state is JobState.FAILED
    assert (job.error or "").startswith("out of GPU memory: node 2 (SimTemporalSmooth) raised torch.OutOfMemoryError")
    assert "no server has more VRAM than gpu0. Lower the resolution, the batch size or the frames per chunk" in (
        job.error or "")


def test_a_failed_chunk_is_retried_alone(sim_cluster: Any, tmp_path: Path) -> None:
    # the simulator's fail_rate draws are fixed per server: with 0.1 its 3rd prompt fails (draw 0.01)
    cluster = sim_cluster(1, fail_rate=0.1)
    pattern = plate(tmp_path, range(1, 21))
    with farm_on(cluster, tmp_path) as farm:
        snapshot = farm.scheduler.wait(farm.scheduler.submit(request(tmp_path, pattern)), timeout=60)
    assert snapshot.state is GroupState.COMPLETED
    attempts = {job.frames: job.attempts for job in snapshot.jobs}
    assert sorted(attempts.values()) == [1, 1, 2]  # one chunk failed once and ran again, alone
    assert cluster.servers[0].prompt_count == 4
    assert frames_on_disk(snapshot) == list(range(1, 21))
    plan = ChunkPlan(range(1, 21), 8, 2)
    renders = {c.index: dict(zip(c.frames, chunk_render(pattern, c.frames))) for c in plan.chunks}
    folder = Path(snapshot.sequences[0].pattern).parent
    for frame in range(1, 21):
        expected = sum(renders[c][frame] / 255.0 * float(w) for c, w in plan.weights(frame))
        assert np.array_equal(rgb(folder / f"shot_var01.{frame:04d}.png"), np.clip(np.rint(expected * 255.0), 0, 255))


def test_a_server_older_than_0_7_joins_with_image_batch(sim_cluster: Any, tmp_path: Path) -> None:
    """BatchImagesNode is core only since 0.7.0: an older server gets the ImageBatch chain."""
    cluster = sim_cluster(1, comfy_version="0.3.60")
    pattern = plate(tmp_path, range(1, 5))
    with farm_on(cluster, tmp_path) as farm:
        made = request(tmp_path, pattern, workflow_path=str(EXAMPLES / "invert.json"), frames="1-4", chunk_size=4,
                       overlap=0)
        snapshot = farm.scheduler.wait(farm.scheduler.submit(made), timeout=60)
    assert snapshot.state is GroupState.COMPLETED
    (entry,) = _history(cluster.urls[0]).values()
    assert {n["class_type"] for n in entry["prompt"][2].values()} == {"LoadImage", "ImageBatch", "ImageInvert",
                                                                        "SaveImage"}


def test_an_out_of_memory_chunk_is_retried_as_smaller_parts_when_allowed(sim_cluster: Any, tmp_path: Path) -> None:
    # 8 frames of 64x64 need 0.13 GB on the simulated card of 0.1 GB; parts of 5 frames need 0.08 GB
    cluster = sim_cluster(1, vram_gb=0.1)
    pattern = plate(tmp_path, range(1, 15), size=64)
    with farm_on(cluster, tmp_path) as farm:
        made = request(tmp_path, pattern, frames="1-14", chunk_size=8, overlap=2, split_on_oom=True)
        snapshot = farm.scheduler.wait(farm.scheduler.submit(made), timeout=60)
    assert snapshot.state is GroupState.COMPLETED, [j.error for j in snapshot.jobs]
    for job in snapshot.jobs:  # one chunk, one job: first the whole batch, then two parts in one prompt
        assert [a.outcome for a in job.attempt_log] == ["out_of_memory", "completed"]
        assert (job.attempt_log[0].error or "").startswith("out of GPU memory: node 2 (SimTemporalSmooth)")
    assert cluster.servers[0].prompt_count == 4
    split = [entry["prompt"][2] for entry in _history(cluster.urls[0]).values()
             if entry["status"]["status_str"] == "success"]
    assert len(split) == 2 and all(
        sorted(n["class_type"] for k, n in prompt.items() if k.endswith("_nkc_part1")) ==
        ["LoadImage", "SaveImage", "SimTemporalSmooth"] for prompt in split)  # part 2's copy of the frame path
    assert frames_on_disk(snapshot) == list(range(1, 15))

    outer = ChunkPlan(range(1, 15), 8, 2)
    renders: Dict[int, Dict[int, np.ndarray]] = {}
    for chunk in outer.chunks:  # a chunk's render is its parts' renders, blended where the parts overlap
        parts = ChunkPlan(chunk.frames, 5, 2)
        by_part = {p.index: dict(zip(p.frames, chunk_render(pattern, p.frames))) for p in parts.chunks}
        renders[chunk.index] = {}
        for frame in chunk.frames:
            blended = sum(by_part[p][frame] / 255.0 * float(w) for p, w in parts.weights(frame))
            renders[chunk.index][frame] = np.clip(np.rint(blended * 255.0), 0, 255)
    folder = Path(snapshot.sequences[0].pattern).parent
    for frame in range(1, 15):
        expected = sum(renders[c][frame] / 255.0 * float(w) for c, w in outer.weights(frame))
        assert np.array_equal(rgb(folder / f"shot_var01.{frame:04d}.png"), np.clip(np.rint(expected * 255.0), 0, 255))
    assert not any(p.is_file() for p in (folder / ".seams").rglob("*"))
