"""What the live view costs the client: CPU per job with previews flowing, watched or not.

Every case renders the same group (a 512x512 txt2img, `STEPS` sampler steps, so one preview per
step: 20 per job) with the production Farm on simulated servers in a child process, and reads the
client's own CPU time per job. The servers differ only in whether they send previews
(`--previews`, as a real server started with `--preview-method`) and how big they are (latent2rgb:
64x64 JPEGs of a few KB; TAESD: 512x512 JPEGs of tens of KB), and the client only in who watches:
nobody (headless, `render --json`, a hidden panel), the CLI (node progress only), or a visible panel
(node progress and previews kept, though here nothing decodes them: decoding is the panel's, on
its own thread, at most 4 per card per second). The goal: at most +0.5 ms per job with nobody
watching. Figures are printed, never asserted: the machine is shared.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from nuke_comfyui.bench.farm import FarmShape, SimFarmProcess
from nuke_comfyui.bench.frame_cost import dropped_preview_cost_us
from nuke_comfyui.bench.pull import run_pull

STEPS = 20
GOAL_HIDDEN_MS = 0.5
#: (name, the servers' preview method, who watches: None | "progress" | "previews")
CASES: Tuple[Tuple[str, Optional[str], Optional[str]], ...] = (
    ("no previews", None, None),
    ("latent2rgb previews, nobody watching", "latent2rgb", None),
    ("taesd previews, nobody watching", "taesd", None),
    ("taesd previews, CLI watching node progress", "taesd", "progress"),
    ("taesd previews, visible panel (kept, not decoded)", "taesd", "previews"),
)


def bench_workflow(example: Path, folder: Path) -> Path:
    """The example txt2img at 512x512 with `STEPS` steps (so TAESD-sized previews are realistic)."""
    flow: Dict[str, Any] = json.loads(example.read_text())
    for node in flow.values():
        inputs = node["inputs"]
        if "steps" in inputs:
            inputs["steps"] = STEPS
        if node["class_type"] == "EmptyLatentImage":
            inputs["width"] = inputs["height"] = 512
    path = folder / "previews-bench.json"
    path.write_text(json.dumps(flow))
    return path


def thread_cpu_seconds(native_ids: List[int]) -> Optional[float]:
    """CPU time (user + system) the given threads of this process have used; None without /proc."""
    total = 0.0
    for tid in native_ids:
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class _Watcher:
    """Watches a farm's live view as the CLI or a panel would, counting the previews it keeps; and
    reads the CPU its event-stream threads use during the run (where previews are read or dropped)."""

    def __init__(self, watch: Optional[str]) -> None:
        self.watch = watch
        self.previews = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self._threads: List[int] = []
        self._streams_at_start: Optional[float] = None
        self.stream_cpu_s: Optional[float] = None

    def done(self) -> None:
        end = thread_cpu_seconds(self._threads)
        if end is not None and self._streams_at_start is not None:
            self.stream_cpu_s = end - self._streams_at_start

    def __call__(self, farm: Any) -> None:
        links = farm.scheduler.state.links.values()
        self._threads = [link.stream._thread.native_id for link in links
                         if link.stream is not None and getattr(link.stream, "_thread", None) is not None]
        self._streams_at_start = thread_cpu_seconds(self._threads)
        if self.watch is None:
            return
        board = farm.scheduler.live
        real = board.preview

        def counted(job: Any, prompt_id: str, mime: str, data: bytes) -> None:
            with self._lock:
                self.previews += 1
                self.bytes += len(data)
            real(job, prompt_id, mime, data)

        board.preview = counted
        board.watch(previews=self.watch == "previews")


def run_previews(work: Path, example: Path, *, jobs: int = 100, servers: int = 4, repeats: int = 3,
                 seconds_per_step: float = 0.02, log: Callable[[str], None] = print) -> Dict[str, Any]:
    workflow = bench_workflow(example, work)
    cases: List[Dict[str, Any]] = []
    for number, (name, method, watch) in enumerate(CASES):
        cpu: List[float] = []
        streams: List[float] = []
        spans: List[float] = []
        kept, kept_bytes = 0, 0
        for repeat in range(repeats):
            log(f"[previews] {name} ({repeat + 1}/{repeats}) ...")
            label = f"pv-{number}-{repeat}"
            watcher = _Watcher(watch)
            with SimFarmProcess(FarmShape((1.0,) * servers, seconds_per_step, previews=method), work / label) as farm:
                from nuke_comfyui.bench.runner import server_configs

                configs = server_configs(farm.urls, (1.0,) * servers)
                span, seconds, _, _ = run_pull("fastest", configs, workflow, jobs, work,
                                               base_seed=90_000_001 + 1_000_000 * (number * repeats + repeat),
                                               label=label, on_ready=watcher, on_done=watcher.done)
            cpu.append(seconds * 1000 / jobs)
            spans.append(span)
            if watcher.stream_cpu_s is not None:
                streams.append(watcher.stream_cpu_s * 1000 / jobs)
            kept, kept_bytes = kept + watcher.previews, kept_bytes + watcher.bytes
        cases.append({"name": name, "previews": method, "watch": watch,
                      "client_cpu_ms_per_job": round(statistics.median(cpu), 3),
                      "min_ms": round(min(cpu), 3), "max_ms": round(max(cpu), 3),
                      "streams_ms_per_job": round(statistics.median(streams), 3) if streams else None,
                      "makespan_s": round(statistics.median(spans), 2),
                      "previews_kept_per_job": round(kept / (jobs * repeats), 1) if watch == "previews" else None,
                      "mean_preview_bytes": round(kept_bytes / kept) if kept else None})
    base, base_streams = cases[0]["client_cpu_ms_per_job"], cases[0]["streams_ms_per_job"]
    for case in cases:
        case["delta_ms"] = round(case["client_cpu_ms_per_job"] - base, 3)
        case["streams_delta_ms"] = None if base_streams is None or case["streams_ms_per_job"] is None else \
            round(case["streams_ms_per_job"] - base_streams, 3)
    hidden = [c["delta_ms"] for c in cases if c["previews"] and c["watch"] is None]
    log("[previews] one dropped preview frame alone (bench/frame_cost.py) ...")
    frame = dropped_preview_cost_us()
    return {"dropped_frame": frame, "jobs": jobs, "servers": servers, "steps": STEPS,
            "previews_sent_per_job": STEPS, "repeats": repeats, "goal_hidden_delta_ms": GOAL_HIDDEN_MS,
            "worst_hidden_delta_ms": max(hidden), "cases": cases}


def format_previews(result: Dict[str, Any]) -> str:
    lines = [f"live previews: {result['jobs']} jobs on {result['servers']} simulated servers, {result['steps']} "
             f"steps (servers with previews send {result['previews_sent_per_job']} per job); client CPU per "
             f"job, median of {result['repeats']} (min-max)",
             f"  {'case':<52}{'ms/job':>8}{'(min-max)':>16}{'delta':>8}{'streams':>9}{'delta':>8}"
             f"{'makespan':>10}{'kept/job':>9}{'bytes':>7}"]
    for case in result["cases"]:
        spread = f"({case['min_ms']:.2f}-{case['max_ms']:.2f})"
        kept = "-" if case["previews_kept_per_job"] is None else f"{case['previews_kept_per_job']:.1f}"
        size = "-" if case["mean_preview_bytes"] is None else str(case["mean_preview_bytes"])
        streams = "-" if case["streams_ms_per_job"] is None else f"{case['streams_ms_per_job']:.2f}"
        streams_delta = "-" if case["streams_delta_ms"] is None else f"{case['streams_delta_ms']:+.2f}"
        lines.append(f"  {case['name']:<52}{case['client_cpu_ms_per_job']:>8.2f}{spread:>16}"
                     f"{case['delta_ms']:>+8.2f}{streams:>9}{streams_delta:>8}{case['makespan_s']:>9.1f}s"
                     f"{kept:>9}{size:>7}")
    worst, goal = result["worst_hidden_delta_ms"], result["goal_hidden_delta_ms"]
    verdict = "met" if worst <= goal else "NOT met"
    lines.append(f"  goal: previews flowing with nobody watching add at most {goal:.1f} ms per job: "
                 f"{worst:+.2f} ms, {verdict}")
    frame = result.get("dropped_frame")
    if frame:
        sizes = ", ".join(f"{k[:-len('_bytes_us')]} B: {v:.1f} us" for k, v in frame.items() if k.endswith("_bytes_us"))
        per_job = max(v for k, v in frame.items() if k.endswith("_bytes_us")) * result["steps"] / 1000
        lines.append(f"  one dropped preview frame alone, reader thread CPU ({sizes}; a progress frame: "
                     f"{frame['text_only_us']:.1f} us): {per_job:.2f} ms per job of {result['steps']} previews")
    return "\n".join(lines)
