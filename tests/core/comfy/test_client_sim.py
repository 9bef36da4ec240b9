"""ComfyClient and EventStream against the simulated ComfyUI 0.8 servers (127.0.0.1 only)."""

from __future__ import annotations

import io
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
from comfykit import server_config, wait_for
from PIL import Image

from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.comfy.events import (
    Connected,
    Disconnected,
    EventStream,
    ExecutionFailed,
    ExecutionStart,
    PromptDone,
)
from nuke_comfyui.core.comfy.types import OutputFile, PromptState
from nuke_comfyui.core.errors import PromptValidationError, ServerUnavailable, UnsafePathError

pytestmark = pytest.mark.integration


def png(color: Any = (10, 20, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buf, "PNG")
    return buf.getvalue()


def tiny(image: str, prefix: str = "acc/tiny") -> Dict[str, Any]:
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": image}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": prefix}},
    }


class Recorder:
    """Collects events from a stream's thread."""

    def __init__(self) -> None:
        self.events: List[Any] = []
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: type) -> List[Any]:
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def one(sim_cluster: Any) -> Any:
    return sim_cluster(1)


def test_status_endpoints(one: Any) -> None:
    client = ComfyClient(server_config(one.urls[0]))
    stats = client.system_stats()
    assert stats.comfyui_version and stats.os and stats.devices
    assert stats.cpu_only == all(d.type == "cpu" for d in stats.devices)
    assert client.queue_remaining() == 0
    snapshot = client.queue()
    assert snapshot.running == [] and snapshot.pending == []
    assert "LoadImage" in client.object_info()
    assert client.features()["max_upload_size"] > 0
    client.free(unload_models=True)
    client.close()


def test_calls_reuse_one_kept_alive_connection(one: Any, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """aiohttp keeps connections alive like ComfyUI: forty calls and a missing file use one socket.

    Counted at `socket.connect`, so it holds for either transport backend (plain_http or urllib3)."""
    import socket

    connects: List[int] = []
    real_connect = socket.socket.connect

    def counting_connect(self: socket.socket, address: Any) -> None:
        connects.append(1)
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", counting_connect)
    client = ComfyClient(server_config(one.urls[0]))
    for _ in range(20):
        client.queue()
        client.queue_remaining()
    assert client.history(str(uuid.uuid4())) is None
    with pytest.raises(Exception, match="not on"):
        client.download(OutputFile("9", "images", "missing.png", "", "output"), tmp_path)
    assert client.queue_remaining() == 0
    assert len(connects) == 1
    client.close()


def test_upload_uses_the_name_the_server_returns(one: Any) -> None:
    client = ComfyClient(server_config(one.urls[0]))
    first = client.upload_image(png((1, 1, 1)), "plate.png", subfolder="shot")
    assert first.load_image_value == "shot/plate.png"
    renamed = client.upload_image(png((2, 2, 2)), "plate.png", subfolder="shot")
    assert renamed.name != "plate.png" and renamed.load_image_value.startswith("shot/plate")
    again = client.upload_image(png((1, 1, 1)), "plate.png", subfolder="shot")
    assert again.name == "plate.png"
    temp = client.upload_image(png(), "t.png", kind="temp")
    assert temp.load_image_value == "t.png [temp]"


def test_submit_events_history_download(one: Any, tmp_path: Path) -> None:
    config = server_config(one.urls[0])
    client = ComfyClient(config)
    image = client.upload_image(png(), "in.png").load_image_value
    recorder = Recorder()
    with EventStream(config, recorder) as stream:
        connected = wait_for(lambda: recorder.of(Connected), what="Connected")
        assert connected[0].client_id == stream.client_id and not connected[0].reconnect
        pid = str(uuid.uuid4())
        result = client.submit(tiny(image), client_id=stream.client_id, prompt_id=pid)
        assert result.prompt_id == pid and result.node_errors == {}
        wait_for(lambda: PromptDone(pid) in recorder.of(PromptDone), what="PromptDone")
        assert any(e.prompt_id == pid for e in recorder.of(ExecutionStart))
    assert stream._thread is None  # stopped and joined
    assert client.prompt_state(pid) is PromptState.COMPLETED
    job = client.job(pid)
    assert job is not None and job.status == "completed" and job.outputs
    entry = client.history(pid)
    assert entry is not None and entry.status_str == "success" and entry.failure is None
    assert [(f.node_id, f.key, f.subfolder) for f in entry.outputs] == [("3", "images", "acc")]
    path = client.download(entry.outputs[0], tmp_path / "dl")
    assert path.parent == tmp_path / "dl" / "acc" and path.read_bytes()[:4] == b"\x89PNG"
    renamed = client.download(entry.outputs[0], tmp_path / "dl", "frame.0001.png")
    assert renamed == tmp_path / "dl" / "frame.0001.png"
    assert [p.name for p in (tmp_path / "dl").iterdir() if p.name.startswith(".nkc-")] == []


def test_download_refuses_hostile_names_before_any_request(one: Any, tmp_path: Path) -> None:
    client = ComfyClient(server_config(one.urls[0]))
    with pytest.raises(UnsafePathError):
        client.download(OutputFile("3", "images", "x.png", "../../etc", "output"), tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_unknown_prompt(one: Any) -> None:
    client = ComfyClient(server_config(one.urls[0]))
    assert client.history("nope") is None
    assert client.job("nope") is None
    assert client.prompt_state("nope") is PromptState.UNKNOWN


def test_validation_error_is_readable(one: Any) -> None:
    client = ComfyClient(server_config(one.urls[0]))
    with pytest.raises(PromptValidationError) as info:
        client.submit(tiny("nope.png"), client_id="c", prompt_id=str(uuid.uuid4()))
    assert "node 1 (LoadImage) input image:" in str(info.value)
    assert "nope.png" in str(info.value)


def test_pending_running_delete_and_targeted_interrupt(sim_cluster: Any) -> None:
    cluster = sim_cluster(1, hang_after=0)
    client = ComfyClient(server_config(cluster.urls[0]))
    image = client.upload_image(png(), "in.png").load_image_value
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    for n, pid in enumerate((first, second, third)):
        client.submit(tiny(image, f"p{n}/x"), client_id="c", prompt_id=pid)
    wait_for(lambda: client.prompt_state(first) is PromptState.RUNNING, what="first running")
    snapshot = client.queue()
    assert [i.prompt_id for i in snapshot.running] == [first]
    assert [i.prompt_id for i in snapshot.pending] == [second, third]
    assert client.queue_remaining() == 3
    assert client.prompt_state(second) is PromptState.PENDING
    client.delete_pending([second])
    assert client.prompt_state(second) is PromptState.UNKNOWN
    client.interrupt(third)  # not running: a silent no-op, the running prompt is untouched
    assert client.prompt_state(first) is PromptState.RUNNING
    client.interrupt(first)
    wait_for(lambda: client.prompt_state(first) is PromptState.FAILED, what="first interrupted")
    entry = client.history(first)
    assert entry is not None and entry.failure is not None and entry.failure.interrupted


def test_execution_error_reaches_history_and_events(sim_cluster: Any) -> None:
    cluster = sim_cluster(1, fail_rate=1.0)
    config = server_config(cluster.urls[0])
    client = ComfyClient(config)
    image = client.upload_image(png(), "in.png").load_image_value
    recorder = Recorder()
    with EventStream(config, recorder) as stream:
        wait_for(lambda: recorder.of(Connected), what="Connected")
        pid = str(uuid.uuid4())
        client.submit(tiny(image), client_id=stream.client_id, prompt_id=pid)
        failed = wait_for(lambda: recorder.of(ExecutionFailed), what="ExecutionFailed")
    assert failed[0].prompt_id == pid and not failed[0].failure.interrupted
    assert client.prompt_state(pid) is PromptState.FAILED


def test_reconnect_uses_a_fresh_client_id(sim_cluster: Any) -> None:
    cluster = sim_cluster(1, drop_ws_after=1)
    config = server_config(cluster.urls[0])
    client = ComfyClient(config)
    image = client.upload_image(png(), "in.png").load_image_value
    recorder = Recorder()
    with EventStream(config, recorder, backoff_start=0.02) as stream:
        wait_for(lambda: recorder.of(Connected), what="Connected")
        old_id = stream.client_id
        pid = str(uuid.uuid4())
        client.submit(tiny(image), client_id=old_id, prompt_id=pid)
        wait_for(lambda: recorder.of(Disconnected), what="Disconnected")
        again = wait_for(lambda: [c for c in recorder.of(Connected) if c.reconnect], what="reconnect")
        assert again[0].client_id != old_id and stream.client_id == again[0].client_id
    # nothing is replayed: the consumer reconciles with prompt_state
    wait_for(lambda: client.prompt_state(pid) is PromptState.COMPLETED, what="completed")


def test_crash_then_restart(sim_cluster: Any) -> None:
    cluster = sim_cluster(1)
    config = server_config(cluster.urls[0])
    client = ComfyClient(config, retries=1, backoff=0.01, connect_timeout=0.5)
    recorder = Recorder()
    with EventStream(config, recorder, backoff_start=0.02, backoff_cap=0.2):
        wait_for(lambda: recorder.of(Connected), what="Connected")
        cluster.servers[0].crash()
        wait_for(lambda: recorder.of(Disconnected), what="Disconnected")
        with pytest.raises(ServerUnavailable):
            client.queue()
        cluster.servers[0].restart()
        wait_for(lambda: [c for c in recorder.of(Connected) if c.reconnect], what="reconnect")
    assert client.queue_remaining() == 0


def test_two_streams_never_share_a_client_id(one: Any) -> None:
    config = server_config(one.urls[0])
    a, b = Recorder(), Recorder()
    with EventStream(config, a) as first, EventStream(config, b) as second:
        wait_for(lambda: a.of(Connected) and b.of(Connected), what="both connected")
        assert first.client_id != second.client_id
        assert len(first.client_id) == 32 and int(first.client_id, 16) >= 0
