"""The simulator's live view, by version profile: negotiation, type 1 / type 4 previews, progress_state.

What a real server does (ComfyUI server.py, main.py's progress hook, comfy_execution/progress.py):
from 0.3.45 it answers a client's first message `feature_flags` and sends previews with metadata
(type 4) to clients that asked, type 1 to every other; before 0.3.45 it never answers and sends
type 1 only, and no progress_state. A prompt queued without a client id has its previews
broadcast to every socket.
"""

from __future__ import annotations

import json
import struct
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import requests
import websocket

from nuke_comfyui.sim.cluster import SimCluster
from nuke_comfyui.sim.previews import decoded_size, preview_size

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json"


def txt2img(steps: int) -> Dict[str, Any]:
    flow: Dict[str, Any] = json.loads(EXAMPLE.read_text())
    for node in flow.values():
        if "steps" in node["inputs"]:
            node["inputs"]["steps"] = steps
    return flow


class Socket:
    """A client WebSocket that keeps text messages and binary frames in arrival order."""

    def __init__(self, url: str, client_id: str, negotiate: bool) -> None:
        self.ws = websocket.create_connection(f"{url.replace('http', 'ws')}/ws?clientId={client_id}", timeout=10)
        if negotiate:
            self.ws.send(json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}}))
        self.frames: List[Tuple[str, Any]] = []

    def until_done(self, prompt_id: str) -> List[Tuple[str, Any]]:
        while True:
            opcode, data = self.ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_BINARY:
                self.frames.append(("binary", data))
                continue
            message = json.loads(data)
            self.frames.append((message["type"], message["data"]))
            if message["type"] == "executing" and message["data"].get("node") is None \
                    and message["data"].get("prompt_id") == prompt_id:
                return self.frames

    def of(self, kind: str) -> List[Any]:
        return [data for k, data in self.frames if k == kind]

    def close(self) -> None:
        self.ws.close()


def run(cluster: SimCluster, steps: int, negotiate: bool) -> Socket:
    sock = Socket(cluster.urls[0], "me", negotiate)
    body: Dict[str, Any] = {"prompt": txt2img(steps), "prompt_id": str(uuid.uuid4()), "client_id": "me"}
    pid = requests.post(f"{cluster.urls[0]}/prompt", json=body, timeout=5).json()["prompt_id"]
    sock.until_done(pid)
    sock.close()
    sock.frames.append(("prompt_id", pid))
    return sock


def header(frame: bytes) -> Tuple[int, Optional[Dict[str, Any]], bytes]:
    kind = struct.unpack(">I", frame[:4])[0]
    if kind == 4:
        length = struct.unpack(">I", frame[4:8])[0]
        return kind, json.loads(frame[8:8 + length]), frame[8 + length:]
    return kind, None, frame[8:]


@pytest.mark.parametrize(("version", "negotiate", "kind"), [
    ("0.8.0", True, 4), ("0.8.0", False, 1), ("0.3.45", True, 4), ("0.3.44", True, 1), ("0.3.40", False, 1)])
def test_preview_framing_by_release_and_negotiation(tmp_path: Path, version: str, negotiate: bool, kind: int) -> None:
    with SimCluster(1, base_dir=tmp_path, previews="latent2rgb", comfy_version=version,
                    seconds_per_step=0.001) as cluster:
        sock = run(cluster, steps=5, negotiate=negotiate)
    pid = sock.of("prompt_id")[0]
    frames = [header(f) for f in sock.of("binary")]
    assert [k for k, _, _ in frames] == [kind] * 5
    assert all(image[:3] == b"\xff\xd8\xff" for _, _, image in frames)
    if kind == 4:
        assert all(meta["prompt_id"] == pid and meta["image_type"] == "image/jpeg" for _, meta, _ in frames)
    answered = sock.of("feature_flags")
    assert bool(answered) == (negotiate and version not in ("0.3.44", "0.3.40"))
    assert bool(sock.of("progress_state")) == (version not in ("0.3.44", "0.3.40"))
    # each preview follows its step's `progress`, as the real progress hook sends them
    kinds = [k for k, _ in sock.frames]
    assert all(kinds[i - 1] in ("progress", "progress_state") for i, k in enumerate(kinds) if k == "binary")


def test_a_prompt_without_client_id_has_its_previews_broadcast(tmp_path: Path) -> None:
    with SimCluster(1, base_dir=tmp_path, previews="latent2rgb", seconds_per_step=0.001) as cluster:
        sock = Socket(cluster.urls[0], "watcher", negotiate=True)
        body = {"prompt": txt2img(3)}  # another tool's prompt, queued with no client id
        requests.post(f"{cluster.urls[0]}/prompt", json=body, timeout=5).raise_for_status()
        binary: List[bytes] = []
        while len(binary) < 3:
            opcode, data = sock.ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_BINARY:
                binary.append(data)
        sock.close()
    assert [header(f)[0] for f in binary] == [1, 1, 1]  # to every socket, without metadata


def test_preview_rate_and_sizes(tmp_path: Path) -> None:
    with SimCluster(1, base_dir=tmp_path, previews="taesd", preview_every=3, seconds_per_step=0.001) as cluster:
        sock = run(cluster, steps=7, negotiate=True)
    assert len(sock.of("binary")) == 3  # steps 3 and 6, and the last step
    # every preview is fitted to 512 px, enlarged as well as shrunk (ComfyUI's ImageOps.contain)
    assert preview_size("latent2rgb", (1024, 768)) == (512, 384)
    assert preview_size("taesd", (1024, 768)) == (512, 384)
    assert preview_size("latent2rgb", (16, 16)) == (512, 512)
    assert decoded_size("latent2rgb", (1024, 768)) == (128, 96) and decoded_size("taesd", (64, 48)) == (64, 48)


def test_bad_preview_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a preview method; use latent2rgb or taesd"):
        SimCluster(1, base_dir=tmp_path, previews="auto")
    with pytest.raises(ValueError, match="preview_every"):
        SimCluster(1, base_dir=tmp_path, previews="taesd", preview_every=0)
