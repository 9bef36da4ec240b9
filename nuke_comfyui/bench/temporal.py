"""`nuke-comfyui bench --temporal`: the figures of frame batches (docs/TEMPORAL.md).

1. The overhead of the overlap: frames the servers rendered (counted in the prompts they ran)
   against frames delivered. Every chunk after the first renders `overlap` frames its neighbour
   also renders, so extra / rendered = (n - 1) / n x overlap / chunk, which tends to the goal
   overlap / chunk as the shot gets longer and never exceeds it; extra / delivered is printed too.
2. The wall time of a 100-frame shot through the simulator's temporal node (cost grows with the
   batch): in chunks over 4 servers (with `fastest` on a fresh farm, again once the farm has
   rendered a shot in chunks, and with round-robin), in chunks on 1 server (what the overlap alone
   costs), and as one batch of 100 on one server (what a temporal model without this feature does,
   VRAM allowing). On a fresh farm `fastest` gives a server no prefetched chunk before it has
   measured one there, so each server stages its second chunk after its first ends; once the farm
   knows the chunk's duration it prefetches as round-robin does.
   Each run repeats (`--repeats`) and reports its median wall time, the min and max, and how many
   chunks each server ran in the median run (a placement that strands chunks shows there: 3,2,2,1).

Measured on the simulator in this process, with real prompts, uploads and seam blends; printed,
never asserted (the machines are shared and noisy).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from nuke_comfyui.core.chunk_plan import ChunkPlan

WORKFLOW = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "plate.png"}, "_meta": {"title": "Nuke Input"}},
    "2": {"class_type": "SimTemporalSmooth", "inputs": {"image": ["1", 0], "steps": 4}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "bench/temporal"},
          "_meta": {"title": "Nuke Output"}},
}
FRAMES = 100
SECONDS_PER_STEP = 0.01  # per frame of the batch: 4 steps x 100 frames = 4 s for the one-batch run
OVERHEAD_CASES: Tuple[Tuple[int, int, int], ...] = ((100, 16, 4), (100, 8, 2), (100, 25, 5), (300, 81, 8))
#: (label, servers, chunk, overlap, server strategy, after a first shot on the same farm); the last
#: is the baseline of the speed-up
RUNS: Tuple[Tuple[str, int, int, int, str, bool], ...] = (
    ("chunks of 16, overlap 4, 4 servers", 4, 16, 4, "fastest", False),
    ("  the same, a second shot (measured)", 4, 16, 4, "fastest", True),
    ("  the same, round-robin", 4, 16, 4, "round-robin", False),
    ("chunks of 16, overlap 4, 1 server", 1, 16, 4, "fastest", False),
    ("one batch of 100, 1 server", 1, 100, 0, "fastest", False),
)
Log = Callable[[str], None]


def run_temporal(log: Log, repeats: int = 1) -> Dict[str, Any]:
    """Every figure of the frame-batch benchmark, as plain data (each run `repeats` times)."""
    with tempfile.TemporaryDirectory(prefix="nuke-comfyui-temporal-") as temp:
        work = Path(temp)
        plate = _plate(work / "plate", FRAMES)
        first_shot = _plate(work / "first-shot", FRAMES, shade=1)  # other pixels: no cache hit in the second
        workflow = work / "temporal.json"
        workflow.write_text(json.dumps(WORKFLOW), encoding="utf-8")
        runs = []
        for label, servers, chunk, overlap, strategy, warm in RUNS:
            tries = []
            for attempt in range(max(1, repeats)):
                log(f"[temporal] {label.strip()} ({attempt + 1}/{max(1, repeats)}) ...")
                tries.append(_run(work / f"run{len(runs)}-{attempt}", workflow, plate, servers=servers,
                                  chunk=chunk, overlap=overlap, strategy=strategy,
                                  first_shot=first_shot if warm else None))
            runs.append({"label": label, "servers": servers, "chunk": chunk, "overlap": overlap,
                         "strategy": strategy, **_median(tries)})
    return {"overhead": [_overhead(*case) for case in OVERHEAD_CASES], "runs": runs}


def _median(tries: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The median run (by wall time), with the min and max wall time and every run's placement."""
    ordered = sorted(tries, key=lambda run: run["wall_s"])
    walls = [run["wall_s"] for run in ordered]
    return {**ordered[(len(ordered) - 1) // 2], "wall_median_s": statistics.median(walls),
            "wall_min_s": walls[0], "wall_max_s": walls[-1], "repeats": len(tries),
            "every_run_each_once": all(run["every_frame_once"] for run in tries),
            "chunks_per_server_each_run": [run["chunks_per_server"] for run in tries]}


def _overhead(frames: int, chunk: int, overlap: int) -> Dict[str, Any]:
    plan = ChunkPlan(range(1, frames + 1), chunk, overlap)
    rendered, delivered = plan.rendered_frames(), plan.delivered_frames()
    return {"frames": frames, "chunk": chunk, "overlap": overlap, "chunks": len(plan), "rendered": rendered,
            "delivered": delivered, "extra": rendered - delivered,
            "extra_per_rendered": (rendered - delivered) / rendered,
            "extra_per_delivered": (rendered - delivered) / delivered, "goal": overlap / chunk}


def _run(work: Path, workflow: Path, plate: str, *, servers: int, chunk: int, overlap: int,
         strategy: str, first_shot: Optional[str] = None) -> Dict[str, Any]:
    """One timed render; with `first_shot`, that plate is rendered first on the same farm, untimed
    (the servers' chunk durations learned, as in a session's second render), and left out of the counts."""
    from nuke_comfyui.blend import PixelBlender
    from nuke_comfyui.core.config import ClusterConfig, ServerConfig
    from nuke_comfyui.core.farm import Farm
    from nuke_comfyui.core.render_request import RenderRequest
    from nuke_comfyui.sim.cluster import SimCluster

    with SimCluster(servers, base_dir=work / "sim", seconds_per_step=SECONDS_PER_STEP) as cluster:
        config = ClusterConfig(servers=[ServerConfig(name=f"s{i}", port=p) for i, p in enumerate(cluster.ports)],
                               poll_interval=0.1, strategy=strategy)
        with Farm.from_config(config, journal_path=work / "journal.sqlite3", blender=PixelBlender()) as farm:
            def shot(pattern: str, output: str) -> RenderRequest:
                return RenderRequest(workflow_path=str(workflow), output_dir=str(work / output), input_pattern=pattern,
                                     frames=f"1-{FRAMES}", chunk_size=chunk, overlap=overlap, label="bench")

            _ready(farm, servers)  # time the render, not the farm's start (streams, node lists)
            if first_shot is not None:
                farm.scheduler.wait(farm.scheduler.submit(shot(first_shot, "first-out")), timeout=600)
            sent_before = sum(_frames_sent(url) for url in cluster.urls)
            started = time.monotonic()
            snapshot = farm.scheduler.wait(farm.scheduler.submit(shot(plate, "out")), timeout=600)
            wall = time.monotonic() - started
        sent = sum(_frames_sent(url) for url in cluster.urls) - sent_before
    delivered = sorted(f for seq in snapshot.sequences for f in seq.frames_done)
    per_server: Dict[str, int] = {}
    for job in snapshot.jobs:
        per_server[job.server or "?"] = per_server.get(job.server or "?", 0) + 1
    return {"state": snapshot.state.value, "wall_s": wall, "chunks": len(snapshot.jobs), "frames_sent": sent,
            "frames_delivered": len(delivered), "every_frame_once": delivered == list(range(1, FRAMES + 1)),
            "chunks_per_server": sorted(per_server.values(), reverse=True)}


def _ready(farm: Any, servers: int, wait: float = 15.0) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and len(farm.pool.object_infos()) < servers:
        time.sleep(0.05)


def _frames_sent(url: str) -> int:
    """Frames the server loaded, from the prompts in its history (one LoadImage per frame of a chunk)."""
    with urllib.request.urlopen(f"{url}/history", timeout=30) as answer:  # loopback simulator only
        history = json.load(answer)
    return sum(1 for entry in history.values() for node in entry["prompt"][2].values()
               if node["class_type"] == "LoadImage")


def _plate(folder: Path, frames: int, shade: int = 0) -> str:
    from PIL import Image

    folder.mkdir(parents=True)
    for frame in range(1, frames + 1):
        colour = (frame * 2 % 256, 100 + shade, 255 - frame * 2 % 256)
        Image.new("RGB", (32, 32), colour).save(folder / f"p.{frame:04d}.png")
    return str(folder / "p.####.png")


def format_temporal(results: Dict[str, Any]) -> str:
    lines: List[str] = ["Frame batches: overhead of the overlap (frames rendered by servers vs delivered)",
                        f"{'frames':>7} {'chunk':>6} {'overlap':>8} {'chunks':>7} {'rendered':>9} {'extra':>6} "
                        f"{'extra/rendered':>15} {'extra/delivered':>16} {'goal overlap/chunk':>19}"]
    for row in results["overhead"]:
        lines.append(f"{row['frames']:>7} {row['chunk']:>6} {row['overlap']:>8} {row['chunks']:>7} "
                     f"{row['rendered']:>9} {row['extra']:>6} {row['extra_per_rendered']:>15.3f} "
                     f"{row['extra_per_delivered']:>16.3f} {row['goal']:>19.3f}")
    lines += ["", f"Frame batches: a {FRAMES}-frame shot through a temporal node whose cost grows with the batch "
              f"({SECONDS_PER_STEP * 4 * 1000:.0f} ms per frame of a batch)",
              f"{'run':38} {'wall s (min-max)':>19} {'chunks':>7} {'per server':>11} {'frames sent':>12} "
              f"{'delivered':>10} {'each once':>10}"]
    for run in results["runs"]:
        wall = f"{run['wall_median_s']:.2f} ({run['wall_min_s']:.2f}-{run['wall_max_s']:.2f})"
        spread = ",".join(str(count) for count in run["chunks_per_server"])
        lines.append(f"{run['label']:38} {wall:>19} {run['chunks']:>7} {spread:>11} {run['frames_sent']:>12} "
                     f"{run['frames_delivered']:>10} {'yes' if run['every_run_each_once'] else 'NO':>10}")
    runs = results["runs"]
    baseline = runs[-1]["wall_median_s"]
    for run in runs[:-2]:
        if run["wall_median_s"] > 0:
            lines.append(f"speed-up of {run['label'].strip()} over one batch on one server: "
                         f"{baseline / run['wall_median_s']:.2f}x (medians of {run['repeats']})")
    return "\n".join(lines)
