"""Decided pixels on a mixed simulated farm: each prompt fitted to the server that takes it.

A request decided for new servers meets an old one (one came up late, or was downgraded
mid-render): its EXR plate cannot load there, so those jobs go elsewhere before anything is sent;
its float saver is missing there, so that job falls back to the workflow's own saver and says so.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy
import OpenEXR
import pytest

from nuke_comfyui.cli.summary import print_summary
from nuke_comfyui.core.frames import frame_ranges
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.scheduler import GroupState
from tests.integration.test_scheduler_sim import make_farm, write_plates

pytestmark = pytest.mark.integration
IDENTITY = {"1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}, "_meta": {"title": "Nuke Input"}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "id"}}}


def exr_plates(folder: Path, frames: range) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        grey = numpy.full((4, 32), frame / 100.0, numpy.float32)
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                          {"R": grey, "G": grey, "B": grey}) as exr:
            exr.write(str(folder / f"plate.{frame:04d}.exr"))
    return str(folder / "plate.####.exr")


def identity(tmp_path: Path) -> str:
    path = tmp_path / "identity.json"
    path.write_text(json.dumps(IDENTITY))
    return str(path)


def test_a_server_without_the_float_saver_falls_back_per_job_and_says_so(sim_cluster: Any, tmp_path: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    cluster = sim_cluster(2, comfy_version=["0.33.0", "0.8.2"])
    pattern = write_plates(tmp_path / "plates", range(1, 9))
    request = RenderRequest(workflow_path=identity(tmp_path), output_dir=str(tmp_path / "out"),
                            input_pattern=pattern, frames="1-8", strategy="round-robin",
                            pixels={"encoding": "srgb", "plate": "png", "results": "exr"})
    with caplog.at_level(logging.WARNING), make_farm(cluster, tmp_path) as farm:
        snapshot = farm.scheduler.wait(farm.scheduler.submit(request), timeout=60)
    assert snapshot.state is GroupState.COMPLETED, [j.error for j in snapshot.jobs if j.error]
    by_server = {job.server: {Path(p).suffix for p in job.outputs} for job in snapshot.jobs}
    assert by_server == {"sim0": {".exr"}, "sim1": {".png"}}
    notes = [r.getMessage() for r in caplog.records if "8-bit PNG result" in r.getMessage()]
    assert notes and all("on sim1 (ComfyUI 0.8.2): 8-bit PNG result, not 32-bit float EXR" in n for n in notes)
    printed = io.StringIO()
    print_summary(snapshot, as_json=False, out=printed)  # the summary says which frames lost the float
    on_old = frame_ranges([job.frame for job in snapshot.jobs if job.server == "sim1"])
    assert (f"  var01: frames {on_old} came back as PNG from sim1, the rest as EXR (sim1 lacked the planned saver "
            "when the job was sent); they load as a Read of their own") in printed.getvalue().splitlines()


def test_an_exr_plate_never_goes_to_a_server_that_cannot_load_it(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(2, comfy_version=["0.8.2", "0.33.0"])
    request = RenderRequest(workflow_path=identity(tmp_path), output_dir=str(tmp_path / "out"),
                            input_pattern=exr_plates(tmp_path / "plates", range(1, 7)), frames="1-6",
                            strategy="round-robin",
                            pixels={"encoding": "linear", "plate": "exr", "results": "exr", "width": 32})
    with make_farm(cluster, tmp_path) as farm:
        snapshot = farm.scheduler.wait(farm.scheduler.submit(request), timeout=60)
    assert snapshot.state is GroupState.COMPLETED, [j.error for j in snapshot.jobs if j.error]
    assert cluster.servers[0].executed_ids == []  # nothing was even sent to the 0.8.2 server
    assert {job.server for job in snapshot.jobs} == {"sim1"}
    assert all(Path(p).suffix == ".exr" for job in snapshot.jobs for p in job.outputs)
