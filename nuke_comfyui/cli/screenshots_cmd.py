"""`nuke-comfyui screenshots`: render each Qt panel offscreen to PNG against a simulated cluster.

The README's pictures come from here, so they always show the real panels: three simulated
servers, one crashed (offline), one busy with another artist's queue, and a render mid-way whose
running cards show their live preview and node (the simulator sends TAESD-sized previews). The
settings are saved to a settings file and read back by the real loader, so every source the
Settings panel shows is one the loader gives.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import requests

HELP = "Render the Qt panels offscreen to PNG files against a simulated cluster (for the README)."

STEP_SECONDS = 0.02


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="docs/screenshots", help="folder for the PNG files")


def txt2img_workflow(steps: int, seed: int = 1) -> Dict[str, Any]:
    """A small API-format text-to-image workflow the simulator runs (steps set its duration)."""
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sim-model.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "foggy harbour at dawn", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 96, "height": 64, "batch_size": 1}},
        "5": {"class_type": "KSampler", "inputs": {
            "model": ["1", 0], "seed": seed, "steps": steps, "cfg": 7.0, "sampler_name": "euler",
            "scheduler": "normal", "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0],
            "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "harbour"}},
    }


def occupy(url: str, count: int, steps: int) -> None:
    """Queue another artist's long prompts on a server so it shows as busy."""
    for i in range(count):
        body = {"prompt": txt2img_workflow(steps, seed=900 + i), "client_id": "other-artist"}
        requests.post(f"{url}/prompt", json=body, timeout=5).raise_for_status()


def pump_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Process Qt events until `predicate()` holds or the deadline passes."""
    from nuke_comfyui.ui.qt import QtCore

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        QtCore.QCoreApplication.processEvents()
        if predicate():
            return True
        time.sleep(0.02)
    return False


def grab(widget: Any, path: Path, size: tuple) -> Path:
    widget.resize(*size)
    widget.show()
    pump_until(lambda: False, 0.3)
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}: check the folder is writable")
    return path


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.cli.extras import QT_MODULES, SIM_MODULES, require

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    require(["sim", "pyside6"], SIM_MODULES + QT_MODULES)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nuke-comfyui-shots-") as tmp:
        written = _render_all(Path(tmp), out)
    for path in written:
        print(path)
    return 0


def _render_all(tmp: Path, out: Path) -> List[Path]:
    from nuke_comfyui.core.config import ClusterConfig, ServerConfig
    from nuke_comfyui.core.config_loader import load_config, save_config
    from nuke_comfyui.core.farm import Farm
    from nuke_comfyui.core.render_request import RenderRequest
    from nuke_comfyui.sim.cluster import SimCluster
    from nuke_comfyui.ui.background import wait_for_background
    from nuke_comfyui.ui.qt import ensure_application
    from nuke_comfyui.ui.results_panel import JobResultsPanel
    from nuke_comfyui.ui.settings_panel import SettingsPanel
    from nuke_comfyui.ui.status_panel import ServerStatusPanel

    ensure_application()
    written: List[Path] = []
    with SimCluster(3, base_dir=tmp / "sim", seconds_per_step=STEP_SECONDS, vram_gb=[24, 12, 48],
                    comfy_version=[None, "0.3.45", None], previews="taesd") as cluster:  # gpu-b: an older ComfyUI
        names = ["gpu-a", "gpu-b", "gpu-c"]
        servers = [ServerConfig(name=n, host="127.0.0.1", port=p, max_concurrent=1)
                   for n, p in zip(names, cluster.ports)]
        servers[0] = servers[0].model_copy(update={  # one server on shared storage: the preview maps it
            "transfer": "shared", "dir_local": str(tmp) + "/", "dir_remote": "/home/render/ComfyUI/"})
        settings_file = tmp / "servers.json"  # loaded as a user's would be: the sources are the loader's own
        save_config(ClusterConfig(servers=servers, poll_interval=0.3, stats_interval=0.5), settings_file)
        loaded = load_config(settings_file, environ={})
        occupy(cluster.urls[1], 3, steps=10000)
        cluster.servers[2].crash()
        farm = Farm.from_config(loaded, journal_path=str(tmp / "journal.sqlite"))
        farm.start()
        try:
            status = ServerStatusPanel(farm.pool, interval=0.3, scheduler=farm.scheduler)
            pump_until(lambda: _states(status) == ["online", "busy", "offline"], 20.0)

            def status_shot() -> None:  # mid-render: "Our jobs" names the prompt gpu-a runs for us
                pump_until(lambda: bool(status.model.ours("gpu-a")), 10.0)
                # wide enough for every column to show whole, Last error included
                written.append(grab(status, out / "status_panel.png", (1440, 200)))

            settings = SettingsPanel(loaded)
            settings.preview_input.setText(str(tmp / "shots" / "plate.1001.png"))
            settings.update_preview()
            pump_until(lambda: settings.preview_table.rowCount() == 3, 5.0)
            written.append(grab(settings, out / "settings_panel.png", (1000, 700)))  # the form whole, no spare band

            written.append(_results_shot(farm, tmp, out, JobResultsPanel, RenderRequest,
                                         meanwhile=status_shot))
            status.shutdown()
        finally:
            wait_for_background(10000)
            farm.stop()
    return written


def _states(panel: Any) -> List[str]:
    """Each row's state once the server was probed ("unchecked" before: offline with no reason yet)."""
    model = panel.model
    return [str(getattr(model.status_at(i).state, "value", model.status_at(i).state))
            if getattr(model.status_at(i), "checked_at", None) is not None else "unchecked"
            for i in range(model.rowCount())]


def _results_shot(farm: Any, tmp: Path, out: Path, panel_class: Any, request_class: Any,
                  *, meanwhile: Callable[[], None]) -> Path:
    """The Job Results picture mid-render; `meanwhile` runs before the render is cancelled."""
    workflow = tmp / "harbour.json"
    workflow.write_text(json.dumps(txt2img_workflow(steps=40)), encoding="utf-8")
    panel = panel_class(farm.scheduler)
    panel.resize(760, 520)
    panel.show()  # a visible panel asks the servers for previews
    request = request_class(workflow_path=str(workflow), output_dir=str(tmp / "renders"), variations=8,
                            seed_strategy="sequential", base_seed=1000, label="harbour_v001")
    group_id = farm.scheduler.submit(request)
    panel.watch(group_id)

    def mid_render() -> bool:
        states = [str(getattr(j.state, "value", j.state)) for j in panel.jobs()]
        previewing = [j for j in panel.jobs() if str(getattr(j.state, "value", j.state)) == "running"
                      and panel.model.has_preview(j.job_id) and panel.model.live_text(j.job_id)]
        return states.count("completed") >= 2 and bool(previewing)

    if not pump_until(mid_render, 60.0):
        panel.shutdown()
        raise RuntimeError("no running card showed a live preview within 60 s; the simulator's previews "
                           "did not arrive (is the machine overloaded?)")
    path = grab(panel, out / "results_panel.png", (760, 520))
    meanwhile()
    farm.scheduler.cancel(group_id)
    panel.shutdown()
    return path
