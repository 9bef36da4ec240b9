"""Render on a node whose farm does not answer fails in seconds (issue 25, from Nuke too).

Before: the CLI said within seconds that no configured server answers, but Render on the node
submitted anyway, and the node showed "running: 0/2 done" for the scheduler's 60 s before the
frames failed one by one. Now the same core check (core/pool/reachability.py) runs before any
input frame is written: one line per server on the node's status and in Nuke's message box
(`nuke.message`, which the fake records and, like Nuke, allows only on the main thread), nothing
journaled. The servers here refuse connections (a loopback port nothing listens on).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, List

import nuke
import pytest

from nuke_comfyui.host import callbacks, headless, knobs
from nuke_comfyui.host.session import get_session

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def configure(monkeypatch: pytest.MonkeyPatch, ports: List[int]) -> None:
    servers = [{"name": f"gpu{i + 1}", "host": "127.0.0.1", "port": port} for i, port in enumerate(ports)]
    monkeypatch.setenv("NUKE_COMFYUI_SERVERS", json.dumps(servers))
    monkeypatch.setenv("NUKE_COMFYUI_POLL_INTERVAL", "0.2")


def comfy_node(tmp_path: Path) -> Any:
    node = nuke.createNode(knobs.NODE_CLASS, inpanel=False)
    node[knobs.WORKFLOW].setValue(str(ROOT / "examples" / "invert.json"))
    node["frame_range_mode"].setValue("custom")
    node["custom_frames"].setValue("1-2")
    node["output_dir"].setValue(str(tmp_path / "renders"))
    node.setInput(0, nuke.nodes.Constant())
    return node


def test_render_on_a_dead_farm_says_so_on_the_node_and_in_a_message(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    ports = [dead_port(), dead_port()]
    configure(monkeypatch, ports)
    node = comfy_node(tmp_path)
    node.setSelected(True)

    callbacks.render_selected()  # the ComfyUI menu's Render Selected (the button's code path)

    [message] = nuke._fake_state().messages
    lines = message.splitlines()
    assert lines[0] == f"ComfyUI render {node.fullName()}: none of the 2 servers answers:"
    assert lines[1].split() == ["gpu1", f"http://127.0.0.1:{ports[0]}", "connection", "refused"]
    assert lines[2].split() == ["gpu2", f"http://127.0.0.1:{ports[1]}", "connection", "refused"]
    assert "ComfyUI > Server Status shows every server" in lines[3] and len(lines) == 4
    assert "nuke-comfyui status" not in message  # Nuke's own panels, not the command line
    status = str(node["status"].value()).splitlines()
    assert status[0] == "not rendered: no server answers"
    assert status[1:] == [lines[0].split(": ", 1)[1], *lines[1:]]
    assert get_session().farm.journal.groups() == []  # nothing submitted: nothing waits 60 s to fail
    assert not (tmp_path / "renders").exists()  # no input frame was written for it


def test_the_nodes_only_servers_are_the_ones_checked(tmp_path: Path, sim_cluster: Any,
                                                     monkeypatch: pytest.MonkeyPatch, pump: Any) -> None:
    cluster = sim_cluster(1)
    port = dead_port()
    configure(monkeypatch, [cluster.ports[0], port])
    node = comfy_node(tmp_path)
    node["servers"].setValue("gpu2")  # only the dead one
    node.setSelected(True)
    callbacks.render_selected()
    [message] = nuke._fake_state().messages
    assert message.splitlines()[:2] == [f"ComfyUI render {node.fullName()}: the server does not answer:",
                                        f"  gpu2  http://127.0.0.1:{port}  connection refused"]

    node["servers"].setValue("")  # every server: gpu1 answers, so the render goes on
    callbacks.render_selected()
    assert len(nuke._fake_state().messages) == 1
    pump(lambda: str(node["status"].value()).startswith("completed"), 30.0)


def test_headless_render_on_a_dead_farm_is_one_line_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: Any) -> None:
    port = dead_port()
    configure(monkeypatch, [port])
    comfy_node(tmp_path)
    script = tmp_path / "shot.nk"
    nuke.scriptSaveAs(str(script), 1)
    nuke._fake_reset(gui=False)
    nuke._fake_run_as_terminal([headless.__file__, str(script), "--no-save"])
    code = headless.main()
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    [line] = [line for line in err.splitlines() if line.strip()]
    assert line.startswith("[nuke-comfyui] the server does not answer: / gpu1  http://127.0.0.1:")
    assert "connection refused" in line and "--server-wait" not in line  # not the 60 s wait's message
