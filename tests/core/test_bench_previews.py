"""`bench --previews`: its workflow, its cases and its printed verdicts (the figures themselves are never asserted)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

from nuke_comfyui.bench.previews import CASES, STEPS, bench_workflow, format_previews, verdicts
from nuke_comfyui.core.comfy.preview_method import WHEN_WATCHED

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json"


def _case(name: str, ms: float, previews: Optional[str], watch: Optional[str], who: str = "",
          base: float = 5.0) -> Dict[str, Any]:
    return {"name": name, "previews": previews, "watch": watch, "who": who, "client_cpu_ms_per_job": ms,
            "min_ms": ms, "max_ms": ms, "streams_ms_per_job": ms / 2, "makespan_s": 10.0,
            "delta_ms": round(ms - base, 3), "streams_delta_ms": round((ms - base) / 2, 3),
            "previews_kept_per_job": 20.0 if watch == "previews" else None,
            "mean_preview_bytes": 50_000 if watch == "previews" else None}


def test_the_workflow_has_one_preview_per_step_at_taesd_size(tmp_path: Path) -> None:
    flow = json.loads(bench_workflow(EXAMPLE, tmp_path).read_text())
    assert [n["inputs"]["steps"] for n in flow.values() if "steps" in n["inputs"]] == [STEPS]
    latent = next(n["inputs"] for n in flow.values() if n["class_type"] == "EmptyLatentImage")
    assert (latent["width"], latent["height"]) == (512, 512)


def test_the_cli_cases_ask_for_none_and_the_gui_cases_ask_while_watched() -> None:
    assert {case.asks for case in CASES if case.who == "cli"} == {False}
    assert {case.asks for case in CASES if case.who == "gui" or case.watch == "previews"} == {WHEN_WATCHED}
    # and one case shows what the servers' own previews cost when nobody watches (for comparison)
    assert any(case.asks is True and case.method and case.watch is None for case in CASES)
    # every watcher whose cost is compared has a no-preview case of its own
    assert {case.watch for case in CASES if case.who} <= {case.watch for case in CASES if case.method is None}


def test_each_kind_of_process_gets_its_verdict_from_its_worst_case() -> None:
    cases = [_case("no previews", 5.0, None, None), _case("gui latent2rgb", 5.1, "latent2rgb", None, "gui"),
             _case("gui taesd", 5.9, "taesd", None, "gui"), _case("panel", 6.0, "taesd", "previews"),
             _case("cli none", 5.2, "taesd", None, "cli"), _case("cli progress", 5.3, "taesd", "progress", "cli")]
    result = {"jobs": 100, "servers": 4, "steps": 20, "previews_sent_per_job": 20, "repeats": 3,
              "goal_hidden_delta_ms": 0.5, "verdicts": verdicts(cases), "cases": cases}
    assert [(v["who"], v["worst_delta_ms"], v["met"]) for v in result["verdicts"]] == \
        [("gui", 0.9, False), ("cli", 0.3, True)]
    text = format_previews(result)
    assert "Nuke GUI, panel hidden (asks for none while nobody watches): +0.90 ms, NOT met" in text
    assert "CLI and nuke -t (ask for none): +0.30 ms, met" in text
    assert "gui taesd" in text and "   +0.90" in text
    result["dropped_frame"] = {"text_only_us": 30.0, "2000_bytes_us": 12.0, "55000_bytes_us": 15.0}
    assert "(2000 B: 12.0 us, 55000 B: 15.0 us; a progress frame: 30.0 us): 0.30 ms per job of 20 previews" \
        in format_previews(result)


def test_a_dropped_frame_is_measured_on_the_streams_own_reader() -> None:
    from nuke_comfyui.bench.frame_cost import reader_cpu_us_per_step

    assert reader_cpu_us_per_step(3000, steps=20) > 0  # the reader got through every step and the end frame
