"""A whole job bundle run by openjd-cli (`openjd run`) against the simulator on 127.0.0.1.

The farm's result must be the local render's, file for file, pixel for pixel and seed for seed (the simulator's
images depend on seed and plate; each PNG also carries its prompt, compared less the per-run
filename prefix), and a task killed mid-run and run again must finish its chunk
without touching the frames it had already delivered.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from nuke_comfyui.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.integration
needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the task's processes in /proc")


def _worker(tmp_path: Path) -> str:
    """The `nuke-comfyui` command a worker runs: the installed one, else (the CI legs run the
    checkout on PYTHONPATH, with no console script) a launcher for this interpreter."""
    installed = BIN / "nuke-comfyui"
    if installed.exists():
        return str(installed)
    launcher = tmp_path / "nuke-comfyui"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m nuke_comfyui "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


def _plates(folder: Path, frames: range) -> Path:
    from PIL import Image

    folder.mkdir()
    for f in frames:
        Image.new("RGB", (16, 16), (f * 30 % 255, 40, 0)).save(folder / f"plate.{f:04d}.png")
    return folder / "plate.####.png"


def _env(cluster: object, tmp_path: Path) -> Dict[str, str]:
    servers = [{"name": f"sim{i}", "url": url} for i, url in enumerate(cluster.urls)]  # type: ignore[attr-defined]
    env = dict(os.environ)
    env.update({"NUKE_COMFYUI_SERVERS": json.dumps(servers), "NUKE_COMFYUI_DATA_DIR": str(tmp_path / "worker"),
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    return env


def _openjd(tmp_path: Path, out: Path, plate: Path, extra: List[str]) -> List[str]:
    return [str(BIN / "openjd"), "run", str(tmp_path / "bundle" / "template.yaml"),
            "-p", f"Workflow={EXAMPLES / 'img2img.json'}", "-p", f"OutputDir={out}", "-p", f"InputPattern={plate}",
            *extra]


def _descendants(root: int) -> List[int]:
    """Every process below `root` (openjd-sessions starts each action in its own process group)."""
    parents: Dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _files(group_folder: Path) -> Dict[str, Tuple[bytes, str]]:
    """Each result: its pixels and the prompt that made it (as ComfyUI embeds it in the PNG), less the
    filename prefix, which is unique per run by design, and the tag of a staged input frame (named by
    content when copied onto a share, by file version when streamed up: core/scheduler/transfer.py)."""
    from PIL import Image

    found = {}
    for path in sorted(group_folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            with Image.open(path) as image:
                prompt = json.loads(image.info["prompt"])
                pixels = image.tobytes()
            for node in prompt.values():
                node["inputs"].pop("filename_prefix", None)
                if isinstance(node["inputs"].get("image"), str):
                    node["inputs"]["image"] = re.sub(r"^nuke_comfyui/[0-9a-f]{16}_", "nuke_comfyui/<staged>_",
                                                     node["inputs"]["image"])
            found[str(path.relative_to(group_folder))] = (pixels, json.dumps(prompt, sort_keys=True))
    return found


def _direct_render(sim_config: Path, plate: Path, frames: str, out: Path, capsys: pytest.CaptureFixture) -> Path:
    argv = ["render", str(EXAMPLES / "img2img.json"), "--output", str(out), "--input", str(plate),
            "--frames", frames, "--variations", "2", "--seed-strategy", "golden", "--base-seed", "3",
            "--config", str(sim_config), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    return out / f"img2img_{summary['group_id'][:8]}"


def _config(cluster: object, tmp_path: Path) -> Path:
    config = tmp_path / "servers.json"
    urls = cluster.urls  # type: ignore[attr-defined]
    config.write_text(json.dumps({"servers": [{"name": f"sim{i}", "url": u} for i, u in enumerate(urls)]}))
    return config


def _write_bundle(tmp_path: Path, plate: Path, frames: str, per_task: int, out: Path,
                  capsys: pytest.CaptureFixture) -> str:
    argv = ["bundle", str(EXAMPLES / "img2img.json"), "--output", str(out), "--input", str(plate),
            "--frames", frames, "--variations", "2", "--seed-strategy", "golden", "--base-seed", "3",
            "--frames-per-task", str(per_task), "--bundle-dir", str(tmp_path / "bundle"),
            "--worker-command", _worker(tmp_path), "--json"]
    assert main(argv) == 0
    return str(json.loads(capsys.readouterr().out)["group_id"])


def test_openjd_run_of_the_bundle_equals_a_direct_render(sim_cluster, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(2)
    plate = _plates(tmp_path / "plates", range(1, 5))
    group = _write_bundle(tmp_path, plate, "1-4", 2, tmp_path / "farm", capsys)
    done = subprocess.run(_openjd(tmp_path, tmp_path / "farm", plate, []), env=_env(cluster, tmp_path),
                          capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Chunks run: 2" in done.stdout  # 4 frames, 2 per task
    farm = _files(tmp_path / "farm" / f"img2img_{group[:8]}")
    local = _files(_direct_render(_config(cluster, tmp_path), plate, "1-4", tmp_path / "local", capsys))
    assert sorted(farm) == [f"var0{v}/img2img_var0{v}.000{f}.png" for v in (1, 2) for f in range(1, 5)]
    assert farm == local  # same names, same pixels, same prompts: same seeds and same plates


@needs_proc
def test_a_task_killed_mid_run_finishes_its_chunk_when_run_again(sim_cluster, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1, seconds_per_step=0.05)  # 4 steps: a fifth of a second per job
    plate = _plates(tmp_path / "plates", range(1, 5))
    group = _write_bundle(tmp_path, plate, "1-4", 4, tmp_path / "farm", capsys)
    folder = tmp_path / "farm" / f"img2img_{group[:8]}"
    command = _openjd(tmp_path, tmp_path / "farm", plate, ["--task-param", "Frame=1-4"])
    env = _env(cluster, tmp_path)
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(_files(folder) if folder.is_dir() else {}) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        for pid in [first.pid, *_descendants(first.pid)]:  # openjd, its action's shell and the render
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # as if the worker machine died mid-chunk
        first.communicate(timeout=30)
    before = _files(folder)
    assert 2 <= len(before) < 8, "the kill should land mid-chunk"
    stamps = {name: (folder / name).stat().st_mtime_ns for name in before}

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=90, check=False)
    assert again.returncode == 0, again.stdout[-3000:]
    assert f"{len(before)} of 8 jobs already delivered" in again.stdout
    after = _files(folder)
    assert len(after) == 8
    assert all((folder / name).stat().st_mtime_ns == stamps[name] for name in before)  # not rewritten
    local = _files(_direct_render(_config(cluster, tmp_path), plate, "1-4", tmp_path / "local", capsys))
    assert after == local


def test_gpu_layout_task_renders_on_the_workers_own_comfyui(sim_cluster, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    """The step environment points the task at 127.0.0.1:ComfyPort, whatever the worker's own settings say."""
    cluster = sim_cluster(2)
    plate = _plates(tmp_path / "plates", range(1, 3))
    argv = ["bundle", str(EXAMPLES / "img2img.json"), "--output", str(tmp_path / "farm"), "--input", str(plate),
            "--frames", "1-2", "--frames-per-task", "2", "--layout", "gpu", "--comfy-port", str(cluster.ports[1]),
            "--bundle-dir", str(tmp_path / "bundle"), "--worker-command", _worker(tmp_path), "--json"]
    assert main(argv) == 0
    group = json.loads(capsys.readouterr().out)["group_id"]
    env = _env(cluster, tmp_path)
    env["NUKE_COMFYUI_SERVERS"] = json.dumps([{"name": "elsewhere", "url": cluster.urls[0]}])
    done = subprocess.run(_openjd(tmp_path, tmp_path / "farm", plate, []), env=env, capture_output=True,
                          text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert sorted(_files(tmp_path / "farm" / f"img2img_{group[:8]}")) == ["var01/img2img_var01.0001.png",
                                                                          "var01/img2img_var01.0002.png"]
    assert [s.prompt_count for s in cluster.servers] == [0, 2]


def test_a_cancelled_task_takes_its_prompts_off_the_servers(sim_cluster, tmp_path: Path) -> None:
    """A farm manager cancels with SIGTERM first (the template's NOTIFY_THEN_TERMINATE): the task
    deletes and interrupts its prompts, so nothing of it keeps a shared GPU busy."""
    from nuke_comfyui.core.comfy.client import ComfyClient
    from nuke_comfyui.core.config import ServerConfig

    cluster = sim_cluster(1, seconds_per_step=0.1)
    plate = _plates(tmp_path / "plates", range(1, 9))
    folder = tmp_path / "farm" / f"img2img_{'c' * 8}"
    command = [_worker(tmp_path), "render", str(EXAMPLES / "img2img.json"), "--output", str(tmp_path / "farm"),
               "--input", str(plate), "--frames", "1-8", "--task-frames", "1-8", "--group-id", "c" * 32]
    task = subprocess.Popen(command, env=_env(cluster, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not (folder.is_dir() and _files(folder)) and time.monotonic() < deadline:
        time.sleep(0.02)
    task.send_signal(signal.SIGTERM)
    out, _ = task.communicate(timeout=30)
    assert task.returncode == 130, out.decode()[-2000:]
    client = ComfyClient(ServerConfig(name="sim0", url=cluster.urls[0]))
    try:
        snapshot = client.queue()
        assert snapshot.running == [] and snapshot.pending == []
    finally:
        client.close()
    assert len(_files(folder)) < 8
