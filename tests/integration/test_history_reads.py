"""Which HTTP calls a render makes on the simulator: no GET /history while the stream is whole.

Every call of ComfyClient goes through `Transport.request`, so recording that method lists the
client's requests exactly. With an unbroken event stream the `executed` messages carry every
output and no history is read; when the simulator drops the WebSocket as a prompt starts
(`drop_ws_after`), that prompt's end is never heard and its results come from history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple

import pytest

from nuke_comfyui.core.comfy.transport import Transport
from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.scheduler import GroupState

pytestmark = pytest.mark.integration

WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json"


def _record(monkeypatch: pytest.MonkeyPatch) -> List[Tuple[str, str]]:
    calls: List[Tuple[str, str]] = []
    original = Transport.request

    def recording(self: Transport, method: str, path: str, **kwargs: Any) -> Any:
        calls.append((method, path))
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(Transport, "request", recording)
    return calls


def _render(cluster: Any, tmp_path: Path, variations: int) -> Any:
    servers = [ServerConfig(name=f"sim{i}", url=url) for i, url in enumerate(cluster.urls)]
    farm = Farm.from_config(ClusterConfig(servers=servers, poll_interval=0.2),
                            journal_path=tmp_path / "journal.sqlite3").start()
    try:
        request = RenderRequest(workflow_path=str(WORKFLOW), output_dir=str(tmp_path / "out"),
                                variations=variations, seed_strategy="sequential", base_seed=900, label="hist")
        return farm.scheduler.wait(farm.scheduler.submit(request), timeout=60)
    finally:
        farm.stop()


def _history_reads(calls: List[Tuple[str, str]]) -> List[str]:
    return [path for method, path in calls if method == "GET" and path.startswith("/history/")]


def test_no_history_read_when_the_stream_carried_the_outputs(sim_cluster: Any, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _record(monkeypatch)
    snap = _render(sim_cluster(1), tmp_path, variations=4)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    assert _history_reads(calls) == []
    assert sum(1 for method, path in calls if method == "GET" and path.startswith("/view")) == 4
    assert sum(1 for method, path in calls if method == "POST" and path == "/prompt") == 4
    for job in snap.jobs:
        assert len(job.outputs) == 1 and Path(job.outputs[0]).stat().st_size > 0


def test_history_is_read_for_prompts_whose_stream_dropped(sim_cluster: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _record(monkeypatch)
    cluster = sim_cluster(1, drop_ws_after=2)  # every 2nd prompt closes the WebSocket as it starts
    snap = _render(cluster, tmp_path, variations=4)
    assert snap.state is GroupState.COMPLETED, [j.error for j in snap.jobs if j.error]
    read = {path.rsplit("/", 1)[1] for path in _history_reads(calls)}
    assert read, "a prompt whose stream dropped must take its results from history"
    for job in snap.jobs:  # every job, whichever way its results came, has its file
        assert len(job.outputs) == 1 and Path(job.outputs[0]).stat().st_size > 0
