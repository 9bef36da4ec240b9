"""bench --transfer's parts: the yardsticks measure something, the report says each goal's verdict.

The figures themselves are printed by the command, never asserted (the machines are shared)."""

from __future__ import annotations

from pathlib import Path

from nuke_comfyui.bench.transfer import (
    format_transfer,
    loopback_mb_per_s,
    sink_upload_mb_per_s,
    upload_ceiling,
    write_plates,
)


def test_the_yardsticks_move_real_bytes(tmp_path: Path) -> None:
    assert loopback_mb_per_s(megabytes=8) > 0
    size = write_plates(tmp_path, frames=1, width=64, height=32)
    assert size > 64 * 32 * 3 * 4 * 0.5  # a float RGB EXR (ZIP shrinks the smooth part)
    assert sink_upload_mb_per_s(tmp_path / "plate.0001.exr", repeats=1) > 0
    ceiling = upload_ceiling(tmp_path / "plate.0001.exr", samples=2, uploads=1, megabytes=8)
    samples = ceiling["ceiling_samples"]
    assert len(samples) == 2 and all(raw > 0 and sink > 0 for raw, sink in samples)
    assert ceiling["upload_share_of_loopback"] > 0


def test_the_report_gives_each_goal_its_verdict() -> None:
    mode = {"state": "completed", "frames": 2, "makespan_s": 4.0, "frames_per_s": 0.5, "upload_mb_per_s": 80.0,
            "download_mb_per_s": 300.0, "uploads_per_frame": 1.0, "plate_mb_read_per_frame": 103.8,
            "plate_reads_per_frame": 1.0, "peak_rss_mb": 400.0, "errors": []}
    figures = {"width": 4096, "height": 2160, "frame_mb": 103.8, "loopback_mb_per_s": 1000.0,
               "client_upload_ceiling_mb_per_s": 600.0, "goal_peak_rss_mb": 307.6, "goal_upload_share": 0.5,
               "upload": mode, "shared": {**mode, "upload_mb_per_s": None, "download_mb_per_s": None,
                                          "plate_reads_per_frame": 0.0, "peak_rss_mb": 50.0},
               "upload_share_of_loopback": 0.6, "sim_upload_share_of_loopback": 0.08,
               "ceiling_samples": [[1000, 600], [900, 700]], "load_average": [1.5, 2.25]}
    text = format_transfer(figures)
    assert "(medians of 2 interleaved pairs: 1000/600, 900/700); load average 1.5 -> 2.2" in text
    assert "goal the client uploads at >= 0.5 of loopback: 0.6 (met)" in text
    assert "goal upload: peak RSS <= 308 MB (2 frames + 100 MB): 400 MB (NOT met)" in text
    assert "goal shared: peak RSS <= 308 MB (2 frames + 100 MB): 50 MB (met)" in text
