"""One line that names the problem and the fix, no traceback (issue 28, "messages").

Each case runs the real CLI (against a simulator on 127.0.0.1 where a server is needed) and pins
the whole line `nuke-comfyui <command>: <message>`; nothing is sent and nothing is left on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
from hostile import farm_config, run_bounded
from PIL import Image

from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.config_loader import load_config

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _cli(argv: List[str], capsys: pytest.CaptureFixture, code: int = 1) -> str:
    assert run_bounded(argv, 30.0) == code
    err: str = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err.splitlines()[-1] if err else ""


def _render(tmp_path: Path, cluster: Any, *extra: str, workflow: str = "") -> List[str]:
    return ["render", workflow or str(EXAMPLES / "txt2img_variations.json"), "--output", str(tmp_path / "out"),
            "--config", str(farm_config(tmp_path, cluster.urls)), "--journal", str(tmp_path / "j.sqlite3"),
            *extra]


def _workflow(tmp_path: Path, change: Dict[str, Any]) -> str:
    data = json.loads((EXAMPLES / "txt2img_variations.json").read_text())
    for key, value in change.items():
        node, _, field = key.partition(".")
        if field:
            data[node]["inputs"][field] = value
        else:
            data[node] = value
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_timeout_that_is_not_a_number_of_seconds(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                   value: str) -> None:
    cluster = sim_cluster(1)
    assert _cli(_render(tmp_path, cluster, "--timeout", value), capsys) == (
        f"nuke-comfyui render: timeout must be a positive number of seconds, not {value}")
    assert cluster.prompt_count == 0


def test_an_empty_output_folder(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = sim_cluster(1)
    monkeypatch.chdir(tmp_path)
    argv = _render(tmp_path, cluster)
    argv[argv.index("--output") + 1] = ""
    assert _cli(argv, capsys) == "nuke-comfyui render: --output is empty; give a path"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["servers.json", "sim0"]  # nothing in the cwd


def test_resume_of_an_empty_group_id(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert _cli(["resume", "", "--journal", str(tmp_path / "j.sqlite3")], capsys) == (
        "nuke-comfyui resume: no job group given; run `nuke-comfyui groups` to list them and give an id (or its "
        "first 8 characters)")


@pytest.mark.parametrize("servers, message", [
    ("nope,sim0", "--servers names 'nope', which is not a configured server (configured: sim0, sim1); check the "
                  "spelling or the settings"),
    ("a,b", "--servers names 'a', 'b', which are not configured servers (configured: sim0, sim1); check the "
            "spelling or the settings"),
    (" , ", "--servers ' , ' names no server; give names separated by commas, e.g. gpu01,gpu02"),
])
def test_every_servers_name_must_be_configured(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture,
                                               servers: str, message: str) -> None:
    cluster = sim_cluster(2)
    assert _cli(_render(tmp_path, cluster, "--servers", servers), capsys) == f"nuke-comfyui render: {message}"
    assert cluster.prompt_count == 0 and not (tmp_path / "out").exists()


def test_a_subset_of_disabled_servers_only(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(2)
    argv = _render(tmp_path, cluster, "--servers", "sim0")
    (tmp_path / "servers.json").write_text(json.dumps({"servers": [
        {"name": "sim0", "url": cluster.urls[0], "enabled": False}, {"name": "sim1", "url": cluster.urls[1]}]}))
    assert _cli(argv, capsys) == ("nuke-comfyui render: --servers names only disabled servers (sim0); enable one in "
                                  "the settings or choose others")


def test_a_cycle_in_the_workflow_is_found_at_load(sim_cluster: Any, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    flow = _workflow(tmp_path, {"5.width": ["8", 0], "8.samples": ["3", 0], "3.latent_image": ["5", 0]})
    assert _cli(_render(tmp_path, cluster, workflow=flow), capsys) == (
        f"nuke-comfyui render: {flow}: the links of nodes 5 (EmptyLatentImage) -> 8 (VAEDecode) -> 3 "
        "(KSamplerAdvanced) -> 5 (EmptyLatentImage) form a cycle, which ComfyUI cannot run; fix the links in "
        "ComfyUI and export again")
    assert cluster.prompt_count == 0


def test_a_self_loop_and_a_class_type_that_is_not_a_name(sim_cluster: Any, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    flow = _workflow(tmp_path, {"3.model": ["3", 0]})
    assert _cli(_render(tmp_path, cluster, workflow=flow), capsys) == (
        f"nuke-comfyui render: {flow}: input 'model' of node 3 (KSamplerAdvanced) links to the node itself, which "
        "ComfyUI cannot run; fix the link in ComfyUI and export again")
    flow = _workflow(tmp_path, {"3": {"class_type": 42, "inputs": {}}})
    assert _cli(_render(tmp_path, cluster, workflow=flow), capsys) == (
        f"nuke-comfyui render: {flow}: node 3 has class_type 42, which is not a node class name; export the "
        "workflow again in API format")
    assert cluster.prompt_count == 0


def test_set_on_a_linked_input_says_what_it_is(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    assert _cli(_render(tmp_path, cluster, "--set", "3.model=x"), capsys) == (
        "nuke-comfyui render: --set 3.model: input 3.model (KSamplerAdvanced) is connected to node 4's output, not a "
        "value you can set; set the value on node 4, or disconnect the input in ComfyUI")
    assert cluster.prompt_count == 0
    assert not (tmp_path / "out").exists()  # refused after the farm started: no folder left behind


def test_input_frames_that_are_not_images_are_refused_before_dispatch(sim_cluster: Any, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    plates = tmp_path / "plates"
    plates.mkdir()
    Image.new("RGB", (8, 8)).save(plates / "plate.0001.png")
    (plates / "plate.0002.png").write_bytes(b"")
    (plates / "plate.0003.png").write_text("hello, not a picture")
    (plates / "plate.0004.png").write_bytes((plates / "plate.0001.png").read_bytes())
    argv = _render(tmp_path, cluster, "--input", str(plates / "plate.####.png"), "--frames", "1-4",
                   workflow=str(EXAMPLES / "img2img.json"))
    assert _cli(argv, capsys) == (
        f"nuke-comfyui render: 2 of 4 input frames of {plates}/plate.####.png are not readable images (frames 2-3: "
        f"{plates}/plate.0002.png: 0 bytes, {plates}/plate.0003.png: not a PNG image (it starts with b'hello, n')); "
        "render them again or fix the input path")
    assert cluster.prompt_count == 0


def test_an_unknown_node_class_leaves_no_output_folder(sim_cluster: Any, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    flow = _workflow(tmp_path, {"3": {"class_type": "NoSuchSampler", "inputs": {}}})
    message = _cli(_render(tmp_path, cluster, workflow=flow), capsys)
    assert "NoSuchSampler" in message
    assert not (tmp_path / "out").exists()


def test_host_with_a_port_and_ipv6_literals() -> None:
    env = {"NUKE_COMFYUI_IP": "127.0.0.1:18120"}
    server = load_config(environ=env).cluster.servers[0]
    assert (server.host, server.port, server.base_url) == ("127.0.0.1", 18120, "http://127.0.0.1:18120")
    assert ServerConfig(name="a", host="::1").base_url == "http://[::1]:8188"
    assert ServerConfig(name="a", host="[fe80::1]:9000").base_url == "http://[fe80::1]:9000"
    with pytest.raises(Exception) as caught:
        load_config(environ={"NUKE_COMFYUI_IP": "127.0.0.1:18120", "NUKE_COMFYUI_PORT": "8188"})
    assert "host '127.0.0.1:18120' holds port 18120 but port is 8188; write the host alone in 'host' and the " \
           "port in 'port'" in str(caught.value)


def test_an_empty_server_list_variable_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUKE_COMFYUI_SERVERS", "[]")
    assert _cli(["status"], capsys) == (
        "nuke-comfyui status: NUKE_COMFYUI_SERVERS is an empty list; name at least one server, e.g. "
        '[{"name": "gpu01", "host": "10.0.0.5"}], or unset it to use the settings file')
