"""The live view against frames recorded from real ComfyUI 0.33.0 and 0.8.2 servers.

Source: data/comfyui-live-view-capture.json (its "note" says how it was recorded). The servers
have no model weights, so the previews there come from SaveImageWebsocket (shipped in ComfyUI's
own custom_nodes/), which sends images through the same progress hook as sampler previews.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from nuke_comfyui.core.comfy.events import parse_message
from nuke_comfyui.core.comfy.feature_flags import ServerFeatures
from nuke_comfyui.core.comfy.previews import PreviewReader
from nuke_comfyui.core.scheduler.live_board import LiveBoard
from nuke_comfyui.core.scheduler.live_feed import LiveFeed
from nuke_comfyui.core.scheduler.tracking import TRACKED_KINDS

CAPTURE = Path(__file__).parent / "data" / "comfyui-live-view-capture.json"
LIVE_KINDS = TRACKED_KINDS | {"progress_state"}


def runs() -> Dict[str, Any]:
    return {run["label"]: run for run in json.loads(CAPTURE.read_text())["runs"]}


def events_of(run: Dict[str, Any]) -> List[Any]:
    """The run's frames as a watching stream delivers them (tracking's kinds plus the live ones)."""
    reader = PreviewReader(run["url"])
    events = []
    for frame in run["frames"]:
        if frame["kind"] == "binary":
            event = reader.read(base64.b64decode(frame["base64"]))
        else:
            event = parse_message(json.dumps(frame["msg"]), LIVE_KINDS)
        if event is not None:
            events.append(event)
    assert reader.refused == 0
    return events


@pytest.mark.parametrize(("label", "with_metadata"), [("033_negotiated", True), ("033_plain", False),
                                                      ("082_negotiated", True)])
def test_real_previews_parse_and_reach_the_prompt_that_made_them(label: str, with_metadata: bool) -> None:
    run = runs()[label]
    events = events_of(run)
    pid = run["prompt_id"]
    previews = [e for e in events if type(e).__name__ == "Preview"]
    assert len(previews) == 2 and all(p.mime == "image/png" and p.data[:4] == b"\x89PNG" for p in previews)
    assert all(p.with_metadata == with_metadata for p in previews)
    if with_metadata:
        assert {(p.prompt_id, p.node, p.display_node) for p in previews} == {(pid, "2", "2")}
    features = [e for e in events if isinstance(e, ServerFeatures)]
    assert features == ([ServerFeatures(True, 104857600)] if with_metadata else [])

    group = SimpleNamespace(id="g", plan=SimpleNamespace(template_json=json.dumps(
        {"2": {"class_type": "SaveImageWebsocket", "inputs": {}, "_meta": {"title": "Save Image (Websocket)"}}})))
    job = SimpleNamespace(id="g.0", group=group, frame=None, variation=0, prompt_id=pid)
    state = SimpleNamespace(occupying={pid: "real"}, current=lambda p: job if p == pid else None)
    board = LiveBoard()
    board.watch(previews=True)
    kept: List[bytes] = []
    real_preview = board.preview
    board.preview = lambda j, p, mime, data: (kept.append(data), real_preview(j, p, mime, data))  # type: ignore
    texts: List[str] = []
    feed = LiveFeed(board, state, "real", lambda event: None)
    for event in events:
        feed(event)
        status = board.status("g.0")
        if status is not None and status.text not in texts:
            texts.append(status.text)
    assert kept == [p.data for p in previews]  # both, type 4 by prompt id, type 1 as the one prompt running
    assert "Save Image (Websocket) 1/2" in texts  # from progress_state (0.8 and 0.33 send it)
    assert board.status("g.0") is None and board.latest_preview("g.0") is None  # gone with the prompt


def test_a_sampler_cannot_run_without_weights_on_the_real_server() -> None:
    """Why the real previews above come from SaveImageWebsocket: no checkpoint is installed."""
    answer = json.loads(CAPTURE.read_text())["sampler_without_checkpoint_033"]
    assert answer["status"] == 400
    details = answer["body"]["node_errors"]["1"]["errors"][0]["details"]
    assert "ckpt_name" in details and "not in []" in details


def test_the_simulator_frames_a_step_as_the_real_server_does(sim_cluster: Any) -> None:
    """Per step: progress_state, type 4, progress (negotiated); progress_state, progress, type 1 (not)."""
    real = runs()

    def step(kinds: List[str], kind: str, negotiate: bool) -> List[str]:
        """The three frames of the first step with a preview: the preview and its neighbours."""
        at = kinds.index(kind)
        return kinds[at - 1:at + 2] if negotiate else kinds[at - 2:at + 1]

    def kinds_of(frames: List[Dict[str, Any]]) -> List[str]:
        return [f["msg"]["type"] if f["kind"] == "text" else f"binary{f['type']}" for f in frames]

    negotiated, plain = kinds_of(real["033_negotiated"]["frames"]), kinds_of(real["033_plain"]["frames"])
    assert step(negotiated, "binary4", True) == ["progress_state", "binary4", "progress"]
    assert step(plain, "binary1", False) == ["progress_state", "progress", "binary1"]
    import uuid

    import requests
    import websocket

    cluster = sim_cluster(1, previews="latent2rgb", seconds_per_step=0.001)
    flow = json.loads((Path(__file__).resolve().parents[3] / "examples" / "txt2img_variations.json").read_text())
    for negotiate, kind in ((True, "binary4"), (False, "binary1")):
        for node in flow.values():  # a new seed each time: the same prompt twice would be cached
            for key in ("seed", "noise_seed"):
                if key in node["inputs"]:
                    node["inputs"][key] = int(negotiate) + 11
        ws = websocket.create_connection(cluster.urls[0].replace("http", "ws") + "/ws?clientId=me", timeout=10)
        if negotiate:
            ws.send(json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}}))
        pid = str(uuid.uuid4())
        requests.post(f"{cluster.urls[0]}/prompt", json={"prompt": flow, "client_id": "me", "prompt_id": pid},
                      timeout=5).raise_for_status()
        kinds: List[str] = []
        while True:
            opcode, data = ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_BINARY:
                kinds.append(f"binary{int.from_bytes(data[:4], 'big')}")
                continue
            message = json.loads(data)
            kinds.append(message["type"])
            if message["type"] == "executing" and message["data"].get("node") is None:
                break
        ws.close()
        real_kinds = kinds_of(real["033_negotiated" if negotiate else "033_plain"]["frames"])
        assert step(kinds, kind, negotiate) == step(real_kinds, kind, negotiate)
