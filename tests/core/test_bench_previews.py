"""`bench --previews`: its workflow and its printed verdict (the figures themselves are never asserted)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

from nuke_comfyui.bench.previews import STEPS, bench_workflow, format_previews

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json"


def _case(name: str, ms: float, previews: Optional[str], watch: Optional[str], base: float = 5.0) -> Dict[str, Any]:
    return {"name": name, "previews": previews, "watch": watch, "client_cpu_ms_per_job": ms, "min_ms": ms,
            "max_ms": ms, "streams_ms_per_job": ms / 2, "makespan_s": 10.0, "delta_ms": round(ms - base, 3),
            "streams_delta_ms": round((ms - base) / 2, 3),
            "previews_kept_per_job": 20.0 if watch == "previews" else None,
            "mean_preview_bytes": 50_000 if watch == "previews" else None}


def test_the_workflow_has_one_preview_per_step_at_taesd_size(tmp_path: Path) -> None:
    flow = json.loads(bench_workflow(EXAMPLE, tmp_path).read_text())
    assert [n["inputs"]["steps"] for n in flow.values() if "steps" in n["inputs"]] == [STEPS]
    latent = next(n["inputs"] for n in flow.values() if n["class_type"] == "EmptyLatentImage")
    assert (latent["width"], latent["height"]) == (512, 512)


def test_the_verdict_reads_the_worst_hidden_case() -> None:
    result = {"jobs": 100, "servers": 4, "steps": 20, "previews_sent_per_job": 20, "repeats": 3,
              "goal_hidden_delta_ms": 0.5, "worst_hidden_delta_ms": 0.3,
              "cases": [_case("no previews", 5.0, None, None), _case("latent2rgb, nobody", 5.1, "latent2rgb", None),
                        _case("taesd, nobody", 5.3, "taesd", None), _case("panel", 6.0, "taesd", "previews")]}
    text = format_previews(result)
    assert "+0.30 ms, met" in text and "NOT" not in text
    assert "taesd, nobody" in text and "   +0.30" in text
    result["worst_hidden_delta_ms"] = 0.7
    assert "+0.70 ms, NOT met" in format_previews(result)
    result["dropped_frame"] = {"text_only_us": 30.0, "2000_bytes_us": 12.0, "55000_bytes_us": 15.0}
    assert "(2000 B: 12.0 us, 55000 B: 15.0 us; a progress frame: 30.0 us): 0.30 ms per job of 20 previews" \
        in format_previews(result)


def test_a_dropped_frame_is_measured_on_the_streams_own_reader() -> None:
    from nuke_comfyui.bench.frame_cost import reader_cpu_us_per_step

    assert reader_cpu_us_per_step(3000, steps=20) > 0  # the reader got through every step and the end frame
