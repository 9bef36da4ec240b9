"""EventStream's live view against simulated servers: negotiation, previews and progress_state.

A 0.8.0 profile answers the negotiation and sends type 4 previews and progress_state; a 0.3.40
profile (before ComfyUI 0.3.45) ignores the negotiation and sends type 1 previews only. Both
must render exactly as before; previews and progress_state reach the consumer only while a
`LiveInterest` says someone looks, and are not parsed otherwise.
"""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
from comfykit import server_config, wait_for

from nuke_comfyui.core.comfy import previews as previews_module
from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.comfy.events import Connected, EventStream, PromptDone
from nuke_comfyui.core.comfy.feature_flags import ServerFeatures
from nuke_comfyui.core.comfy.live_interest import LiveInterest
from nuke_comfyui.core.comfy.node_progress import NodeProgress
from nuke_comfyui.core.comfy.previews import Preview

pytestmark = pytest.mark.integration

WORKFLOW = Path(__file__).resolve().parents[3] / "examples" / "txt2img_variations.json"


def txt2img(steps: int, seed: int) -> Dict[str, Any]:
    prompt: Dict[str, Any] = json.loads(WORKFLOW.read_text())
    for node in prompt.values():
        if "steps" in node["inputs"]:
            node["inputs"]["steps"] = steps
        for key in ("seed", "noise_seed"):
            if key in node["inputs"]:
                node["inputs"][key] = seed
    return prompt


class Recorder:
    def __init__(self) -> None:
        self.events: List[Any] = []
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: type) -> List[Any]:
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]


def render(url: str, interest: LiveInterest, steps: int = 6, seed: int = 1) -> Recorder:
    """One prompt on a fresh stream, followed to its end."""
    config = server_config(url)
    client = ComfyClient(config)
    recorder = Recorder()
    with EventStream(config, recorder, interest=interest) as stream:
        wait_for(lambda: recorder.of(Connected), what="Connected")
        # before 0.3.45 the server makes its own prompt id: the answer says which
        pid = client.submit(txt2img(steps, seed), client_id=stream.client_id, prompt_id=str(uuid.uuid4())).prompt_id
        wait_for(lambda: PromptDone(pid) in recorder.of(PromptDone), what="PromptDone")
    client.close()
    recorder.events.append(pid)
    return recorder


def test_a_current_server_answers_the_negotiation_and_sends_type_4(sim_cluster: Any) -> None:
    cluster = sim_cluster(1, previews="latent2rgb", seconds_per_step=0.002)
    interest = LiveInterest()
    release = interest.watch(previews=True)
    recorder = render(cluster.urls[0], interest)
    release()
    pid = recorder.events[-1]
    assert recorder.of(ServerFeatures) == [ServerFeatures(preview_metadata=True, max_upload_size=104857600)]
    shown = recorder.of(Preview)
    assert len(shown) == 6 and all(p.prompt_id == pid and p.with_metadata for p in shown)
    assert all(p.mime == "image/jpeg" and p.data[:3] == b"\xff\xd8\xff" for p in shown)
    states = recorder.of(NodeProgress)
    assert states and {s.prompt_id for s in states} == {pid}
    steps = [s.current().value for s in states if s.current() is not None and s.current().max == 6]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_an_old_server_ignores_the_negotiation_and_works_as_before(sim_cluster: Any) -> None:
    cluster = sim_cluster(1, previews="latent2rgb", comfy_version="0.3.40", seconds_per_step=0.002)
    interest = LiveInterest()
    release = interest.watch(previews=True)
    recorder = render(cluster.urls[0], interest, steps=4)
    release()
    assert recorder.of(ServerFeatures) == []  # no answer, and nothing waited for one
    assert recorder.of(NodeProgress) == []  # this release has no progress_state
    shown = recorder.of(Preview)
    assert len(shown) == 4 and all(p.prompt_id is None and not p.with_metadata for p in shown)


def test_nobody_watching_drops_previews_and_progress_state_unparsed(
        sim_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = sim_cluster(1, previews="taesd", seconds_per_step=0.002)
    parsed: List[int] = []
    real = previews_module.parse_preview
    monkeypatch.setattr(previews_module, "parse_preview", lambda payload, *a: parsed.append(1) or real(payload, *a))
    recorder = render(cluster.urls[0], LiveInterest(), steps=5)
    assert recorder.of(Preview) == [] and recorder.of(NodeProgress) == []
    assert parsed == []
    assert recorder.of(ServerFeatures)  # the negotiation still happened: previews arrive as type 4
    server = cluster.servers[0]
    assert server.executed_ids == [recorder.events[-1]]


def test_interest_switches_on_and_off_without_reconnecting(sim_cluster: Any) -> None:
    cluster = sim_cluster(1, previews="latent2rgb", seconds_per_step=0.002)
    config = server_config(cluster.urls[0])
    client = ComfyClient(config)
    interest = LiveInterest()
    recorder = Recorder()
    with EventStream(config, recorder, interest=interest) as stream:
        wait_for(lambda: recorder.of(ServerFeatures), what="the negotiation's answer")
        runs = []
        for watching in (False, True, False):
            release = interest.watch(previews=True) if watching else (lambda: None)
            pid = str(uuid.uuid4())
            client.submit(txt2img(3, len(runs) + 1), client_id=stream.client_id, prompt_id=pid)
            wait_for(lambda pid=pid: PromptDone(pid) in recorder.of(PromptDone), what="PromptDone")
            release()
            runs.append(pid)
        assert stream.connections == 1
    client.close()
    assert {p.prompt_id for p in recorder.of(Preview)} == {runs[1]}
    assert {s.prompt_id for s in recorder.of(NodeProgress)} == {runs[1]}
