"""What the live view costs the client: CPU per job with previews flowing, watched or not, asked for or not.

Every case renders the same group (a 512x512 txt2img, `STEPS` sampler steps, so one preview per
step: 20 per job) with the production Farm on simulated servers in a child process, and reads the
client's own CPU time per job. The servers differ only in whether they make previews
(`--previews`, as a real server started with `--preview-method`; both methods' previews are
fitted to 512 px as ComfyUI does, latent2rgb's enlarged from an eighth of the image), and the
client in who it is:

- a Nuke session with a GUI asks for previews only with prompts sent while a Results panel shows
  them (`WHEN_WATCHED`): with the panel hidden its prompts ask for none, with it showing the
  previews flow and are kept (here nothing decodes them: decoding is the panel's, on its own
  thread, at most 4 per card per second);
- for comparison, a process that keeps the servers' setting with nobody watching (the monitor, or a
  Nuke GUI before the WHEN_WATCHED rule): previews flow and are dropped unparsed;
- the CLI and `nuke -t` can never show one, so their prompts ask for none
  (`extra_data.preview_method`, honoured from ComfyUI 0.5.0 like the simulator's default 0.8
  profile): no previews reach them; the CLI still watches node progress, headless nobody.

Each case is compared with the no-preview case of the same watcher. Cases run in turn within
each repeat, so the machine's load drifts over all of them alike. The goal: at most +0.5 ms per
job with nobody watching (panel hidden, headless). Figures are printed, never asserted: the
machine is shared.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from nuke_comfyui.bench.farm import FarmShape, SimFarmProcess
from nuke_comfyui.bench.frame_cost import dropped_preview_cost_us
from nuke_comfyui.bench.pull import run_pull
from nuke_comfyui.core.comfy.preview_method import WHEN_WATCHED, Policy

STEPS = 20
GOAL_HIDDEN_MS = 0.5


class Case(NamedTuple):
    name: str
    method: Optional[str]  # the servers' preview method (None: they make none)
    watch: Optional[str]  # who watches: None | "progress" (the CLI) | "previews" (a visible panel)
    asks: Policy  # True: the servers' setting; False: none (the CLI); WHEN_WATCHED: a Nuke GUI
    who: str  # whose goal it is: "gui" (panel hidden), "cli" (nobody or node progress), "" (none)


CASES = (
    Case("no previews, nobody watching", None, None, True, ""),
    Case("no previews, CLI watching node progress", None, "progress", False, ""),
    Case("latent2rgb, Nuke GUI, panel hidden", "latent2rgb", None, WHEN_WATCHED, "gui"),
    Case("taesd, Nuke GUI, panel hidden", "taesd", None, WHEN_WATCHED, "gui"),
    Case("taesd, Nuke GUI, panel visible (kept, not decoded)", "taesd", "previews", WHEN_WATCHED, ""),
    Case("taesd, servers' setting kept, nobody watching", "taesd", None, True, ""),
    Case("taesd, nuke -t / render --json: asks none, nobody", "taesd", None, False, "cli"),
    Case("taesd, CLI render: asks none, node progress", "taesd", "progress", False, "cli"),
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


def _run_case(case: Case, number: int, repeat: int, work: Path, workflow: Path, *, jobs: int, servers: int,
              seconds_per_step: float) -> Dict[str, Any]:
    label = f"pv-{number}-{repeat}"
    watcher = _Watcher(case.watch)
    with SimFarmProcess(FarmShape((1.0,) * servers, seconds_per_step, previews=case.method), work / label) as farm:
        from nuke_comfyui.bench.runner import server_configs

        configs = server_configs(farm.urls, (1.0,) * servers)
        span, seconds, _, _ = run_pull("fastest", configs, workflow, jobs, work,
                                       base_seed=90_000_001 + 1_000_000 * (number + 100 * repeat), label=label,
                                       on_ready=watcher, on_done=watcher.done, previews=case.asks)
    return {"cpu": seconds * 1000 / jobs, "span": span, "kept": watcher.previews, "bytes": watcher.bytes,
            "streams": None if watcher.stream_cpu_s is None else watcher.stream_cpu_s * 1000 / jobs}


def run_previews(work: Path, example: Path, *, jobs: int = 100, servers: int = 4, repeats: int = 3,
                 seconds_per_step: float = 0.02, log: Callable[[str], None] = print) -> Dict[str, Any]:
    workflow = bench_workflow(example, work)
    runs: List[List[Dict[str, Any]]] = [[] for _ in CASES]
    for repeat in range(repeats):
        for number, case in enumerate(CASES):
            log(f"[previews] {case.name} ({repeat + 1}/{repeats}) ...")
            runs[number].append(_run_case(case, number, repeat, work, workflow, jobs=jobs, servers=servers,
                                          seconds_per_step=seconds_per_step))
    cases = [_summary(case, case_runs, jobs, repeats) for case, case_runs in zip(CASES, runs)]
    for case in cases:
        base = _baseline(case, cases)
        case["baseline"] = base["name"]
        case["delta_ms"] = round(case["client_cpu_ms_per_job"] - base["client_cpu_ms_per_job"], 3)
        case["streams_delta_ms"] = None if base["streams_ms_per_job"] is None or case["streams_ms_per_job"] is None \
            else round(case["streams_ms_per_job"] - base["streams_ms_per_job"], 3)
    log("[previews] one dropped preview frame alone (bench/frame_cost.py) ...")
    frame = dropped_preview_cost_us()
    return {"dropped_frame": frame, "jobs": jobs, "servers": servers, "steps": STEPS,
            "previews_sent_per_job": STEPS, "repeats": repeats, "goal_hidden_delta_ms": GOAL_HIDDEN_MS,
            "verdicts": verdicts(cases), "cases": cases}


def _baseline(case: Dict[str, Any], cases: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The no-preview case with the same watcher (what watching costs without previews), else the first."""
    same = [c for c in cases if c["previews"] is None and c["watch"] == case["watch"]]
    return same[0] if same else cases[0]


def _summary(case: Case, runs: List[Dict[str, Any]], jobs: int, repeats: int) -> Dict[str, Any]:
    cpu = [run["cpu"] for run in runs]
    streams = [run["streams"] for run in runs if run["streams"] is not None]
    kept, kept_bytes = sum(run["kept"] for run in runs), sum(run["bytes"] for run in runs)
    return {"name": case.name, "previews": case.method, "watch": case.watch, "asks_for_previews": case.asks,
            "who": case.who, "client_cpu_ms_per_job": round(statistics.median(cpu), 3),
            "min_ms": round(min(cpu), 3), "max_ms": round(max(cpu), 3),
            "streams_ms_per_job": round(statistics.median(streams), 3) if streams else None,
            "makespan_s": round(statistics.median(run["span"] for run in runs), 2),
            "previews_kept_per_job": round(kept / (jobs * repeats), 1) if case.watch == "previews" else None,
            "mean_preview_bytes": round(kept_bytes / kept) if kept else None}


def verdicts(cases: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The goal per kind of process, from its worst case against its baseline."""
    out = []
    for who, text in (("gui", "Nuke GUI, panel hidden (asks for none while nobody watches)"),
                      ("cli", "CLI and nuke -t (ask for none)")):
        deltas = [case["delta_ms"] for case in cases if case["who"] == who]
        if deltas:
            worst = max(deltas)
            out.append({"who": who, "text": text, "worst_delta_ms": worst, "met": worst <= GOAL_HIDDEN_MS})
    return out


def format_previews(result: Dict[str, Any]) -> str:
    lines = [f"live previews: {result['jobs']} jobs on {result['servers']} simulated servers, {result['steps']} "
             f"steps (servers with previews make {result['previews_sent_per_job']} per job); client CPU per "
             f"job, median of {result['repeats']} (min-max); delta against the no-preview case of the same watcher",
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
    goal = result["goal_hidden_delta_ms"]
    for verdict in result["verdicts"]:
        lines.append(f"  goal (at most +{goal:.1f} ms per job) for the {verdict['text']}: "
                     f"{verdict['worst_delta_ms']:+.2f} ms, {'met' if verdict['met'] else 'NOT met'}")
    frame = result.get("dropped_frame")
    if frame:
        sizes = ", ".join(f"{k[:-len('_bytes_us')]} B: {v:.1f} us" for k, v in frame.items() if k.endswith("_bytes_us"))
        per_job = max(v for k, v in frame.items() if k.endswith("_bytes_us")) * result["steps"] / 1000
        lines.append(f"  one dropped preview frame alone, reader thread CPU ({sizes}; a progress frame: "
                     f"{frame['text_only_us']:.1f} us): {per_job:.2f} ms per job of {result['steps']} previews")
    return "\n".join(lines)
