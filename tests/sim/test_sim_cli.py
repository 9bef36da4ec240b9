"""`nuke-comfyui sim` prints one URL per line once every server answers, and parses per-server lists."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from nuke_comfyui.cli import sim_cmd
from nuke_comfyui.core.errors import ConfigError


def test_per_server_lists():
    assert sim_cmd._per_server("1,,2", 3, "speeds", float) == [1.0, None, 2.0]
    assert sim_cmd._per_server("4", 3, "speeds", float) == 4.0
    assert sim_cmd._missing("KSampler+VAEDecode,,", 3) == ["KSampler+VAEDecode", "", ""]
    with pytest.raises(ConfigError, match="--speeds"):
        sim_cmd._per_server("1,2", 3, "speeds", float)
    with pytest.raises(ConfigError, match="--fail-rate"):
        sim_cmd._per_server("x", 3, "fail-rate", float)


@pytest.mark.integration
def test_sim_command_prints_urls_of_answering_servers(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "nuke_comfyui",
        "sim",
        "--servers",
        "2",
        "--port",
        "0",
        "--speeds",
        "1,2",
        "--base-dir",
        str(tmp_path),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        urls = [proc.stdout.readline().strip() for _ in range(2)]
        assert all(u.startswith("http://127.0.0.1:") for u in urls)
        for url in urls:
            assert (
                requests.get(url + "/system_stats", timeout=5).json()["system"]["comfyui_version"] == "0.8.0"
            )
        assert (tmp_path / "server1" / "input").is_dir()
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize(("options", "message"), [
    (["--previews", "auto"], "nuke-comfyui sim: previews: 'auto' is not a preview method; use latent2rgb or taesd"),
    (["--previews", "taesd", "--preview-every", "0"], "nuke-comfyui sim: preview_every: 0 steps; give 1 or more"),
])
def test_bad_preview_options_are_one_line(capsys, tmp_path, options, message):
    from nuke_comfyui.cli.main import main

    assert main(["sim", "--servers", "1", "--port", "0", "--base-dir", str(tmp_path), *options]) == 1
    assert capsys.readouterr().err.strip() == message
