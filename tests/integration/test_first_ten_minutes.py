"""What a new user meets on day one, end to end on the simulator: a dead farm said at once, each
message once, servers that were down named, unfed image inputs refused before anything is sent,
drawn base seeds, the demo's last line, and every progress line when the output is piped.

Reproduces issue 25: `render` against servers that are all down took 62 s and printed the same
300-character reason five times; `demo` printed "results: ..." when nothing rendered; a workflow's
LoadImage left unfed sent every frame to the servers to be rejected there; seeds were the same on
every run; piped output lost 0-3 of 4 variation lines.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.journal import Journal

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TXT2IMG = ROOT / "examples" / "txt2img_variations.json"
IMG2IMG = ROOT / "examples" / "img2img.json"


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(tmp_path: Path, servers: Dict[str, str], **cluster: Any) -> Path:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"poll_interval": 0.2, **cluster,
                                "servers": [{"name": name, "url": url} for name, url in servers.items()]}))
    return path


def render_argv(tmp_path: Path, settings: Path, *extra: str, workflow: Path = TXT2IMG) -> List[str]:
    return ["render", str(workflow), "--output", str(tmp_path / "out"), "--config", str(settings),
            "--journal", str(tmp_path / "journal.sqlite3"), *extra]


def test_a_farm_that_is_not_there_says_so_at_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ports = [dead_port(), dead_port()]
    settings = config(tmp_path, {"gpu01": f"http://127.0.0.1:{ports[0]}", "gpu02": f"http://127.0.0.1:{ports[1]}"})
    assert main(render_argv(tmp_path, settings, "--variations", "5")) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "nuke-comfyui render: none of the 2 servers answers:"
    assert err[1].split() == ["gpu01", f"http://127.0.0.1:{ports[0]}", "connection", "refused"]
    assert err[2].split() == ["gpu02", f"http://127.0.0.1:{ports[1]}", "connection", "refused"]
    assert "`nuke-comfyui status`" in err[3] and "`nuke-comfyui demo --sim`" in err[3] and len(err) == 4
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.png"))
    with Journal(tmp_path / "journal.sqlite3") as journal:
        assert journal.groups() == []  # nothing was submitted, so nothing waits 60 s to fail


def test_a_server_down_the_whole_render_is_named_in_the_summary(sim_cluster, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    port = dead_port()
    settings = config(tmp_path, {"gpu01": cluster.urls[0], "gpu02": f"http://127.0.0.1:{port}"})
    assert main(render_argv(tmp_path, settings, "--variations", "3", "--base-seed", "9")) == 0
    out = capsys.readouterr().out
    assert "3/3 completed" in out
    assert "  server gpu02 unreachable the whole render (connection refused)" in out.splitlines()
    assert "gpu01" not in out.split("server gpu02")[0].split("completed, 0 failed")[-1]  # the live one is not named


def test_each_failure_reason_is_printed_once(sim_cluster, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1, fail_rate=1.0)
    settings = config(tmp_path, {"gpu01": cluster.urls[0]}, retries=0)
    assert main(render_argv(tmp_path, settings, "--variations", "4", "--base-seed", "3")) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    failed = [line for line in lines if " failed on gpu01" in line]
    assert len(failed) == 4
    full = [line for line in failed if ": " in line.split(" failed on gpu01", 1)[1]]
    assert len(full) == 1  # the first says why; the others point back to it
    first = full[0].split(" failed on", 1)[0]
    assert all(line.endswith(f"(same reason as {first})") for line in failed if line not in full)
    summary = captured.out.splitlines()
    reasons = [line for line in summary if line.startswith("  failed, ")]
    assert len(reasons) == 1 and reasons[0].startswith("  failed, 4 jobs (var01, var02, var03, var04) on gpu01: ")
    reason = reasons[0].split(" on gpu01: ", 1)[1]
    assert reason and reason in full[0].replace("gpu01: ", "")  # the reason the first line printed


def test_an_image_input_no_server_has_is_refused_before_anything_is_sent(sim_cluster, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    settings = config(tmp_path, {"gpu01": cluster.urls[0]})
    assert main(render_argv(tmp_path, settings, "--variations", "2", workflow=IMG2IMG)) == 1
    err = capsys.readouterr().err
    assert 'node 1 "Nuke Input" (LoadImage): \'example.png\' is on no server' in err
    assert "--input" in err and "--image NODE=FILE" in err and len(err.strip().splitlines()) == 1
    assert cluster.servers[0].prompt_count == 0
    # the same file given with --image is fed: the render runs
    from PIL import Image

    Image.new("RGB", (16, 16)).save(tmp_path / "still.png")
    assert main(render_argv(tmp_path, settings, "--image", f"1={tmp_path / 'still.png'}", workflow=IMG2IMG)) == 0


def test_variations_without_a_base_seed_are_new_each_run_and_repeatable(sim_cluster, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    settings = config(tmp_path, {"gpu01": cluster.urls[0]})

    def seeds(*extra: str) -> Dict[str, Any]:
        assert main(render_argv(tmp_path, settings, "--variations", "3", "--json", *extra)) == 0
        data = json.loads(capsys.readouterr().out)
        return {"seeds": [job["seed"] for job in data["jobs"]], "base": data.get("base_seed")}

    first, second = seeds(), seeds()
    assert first["base"] is not None and first["base"] != second["base"]
    assert set(first["seeds"]).isdisjoint(second["seeds"])
    assert seeds("--base-seed", str(first["base"]))["seeds"] == first["seeds"]
    with Journal(tmp_path / "journal.sqlite3") as journal:
        journaled = {json.loads(group.request)["base_seed"] for group in journal.groups()}
    assert {first["base"], second["base"]} <= journaled


def test_text_summary_prints_the_drawn_base_seed(sim_cluster, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    settings = config(tmp_path, {"gpu01": cluster.urls[0]})
    assert main(render_argv(tmp_path, settings, "--variations", "2")) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "base seed" in line)
    base = int(line.split("base seed ")[1].split()[0])
    assert f"--base-seed {base} repeats its seeds" in line


def test_demo_on_servers_that_render_nothing_never_ends_with_results(sim_cluster, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(2, fail_rate=1.0)
    settings = config(tmp_path, {"gpu01": cluster.urls[0], "gpu02": cluster.urls[1]}, retries=0)
    assert main(["demo", "--config", str(settings), "--output", str(tmp_path / "demo"), "--frames", "2",
                 "--variations", "2"]) == 1
    captured = capsys.readouterr()
    assert "results:" not in captured.out and "nothing was rendered" in captured.err


def _piped(argv: List[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NUKE_COMFYUI_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "nuke_comfyui", *argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_piped_demo_prints_every_completion_line(tmp_path: Path) -> None:
    """The demo's two groups run at once: the seed group's lines used to be lost while the plate was followed."""
    done = _piped(["demo", "--sim", "--output", str(tmp_path / "demo"), "--frames", "6", "--variations", "4"],
                  tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if " completed on " in line]
    plate = [line for line in lines if line.startswith("plate_img2img: frame ")]
    seeds = [line for line in lines if line.startswith("seed_group: var")]
    assert sorted(line.split()[2] for line in plate) == [str(f) for f in range(1001, 1007)]
    assert sorted(line.split()[1] for line in seeds) == ["var01", "var02", "var03", "var04"]
    assert "results:" in done.stdout


def test_piped_render_prints_each_job_once_in_order(sim_cluster, tmp_path: Path) -> None:
    cluster = sim_cluster(2)
    settings = config(tmp_path, {"gpu01": cluster.urls[0], "gpu02": cluster.urls[1]})
    done = _piped(render_argv(tmp_path, settings, "--variations", "8", "--base-seed", "1"), tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if " completed on " in line]
    assert sorted(line.split()[0] for line in lines) == [f"var{i:02d}" for i in range(1, 9)]
