"""A busy server (429/503 with Retry-After) is busy, not "does not answer like ComfyUI" (issue 28).

Before, a proxy's 429 or 503 became "does not answer like ComfyUI"; now the client waits what
Retry-After asks (at most 10 s) and asks again within its retries, and a server that stays busy
is shown offline with the word "busy" and the wait it asked for.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.sim.faults import HttpFaults

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("code, phrase", [(429, "Too Many Requests"), (503, "Service Unavailable")])
def test_a_server_that_stays_busy_is_shown_busy(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                code: int, phrase: str) -> None:
    cluster = sim_cluster(1)
    cluster.servers[0].options.faults = HttpFaults(answers={"GET /queue": (code, "slow down", {"Retry-After": "0"})})
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": "proxy", "url": cluster.urls[0]}]}))
    assert main(["status", "--json", "--config", str(config)]) == 1
    row = json.loads(capsys.readouterr().out)[0]
    assert row["state"] == "offline"
    assert row["error"] == (f"GET /queue: {cluster.urls[0]} is busy (HTTP {code} {phrase}) and asked us to wait 0 s; "
                            "its work goes to other servers until it answers again")


def test_retry_after_is_honoured_then_the_call_succeeds(sim_cluster: Any) -> None:
    cluster = sim_cluster(1)
    cluster.servers[0].options.faults = HttpFaults(answers={"GET /queue": (429, "", {"Retry-After": "1"})},
                                                   answers_left=1)
    client = ComfyClient(ServerConfig(name="proxy", url=cluster.urls[0]))
    started = time.monotonic()
    snapshot = client.queue()
    waited = time.monotonic() - started
    assert snapshot.running == [] and snapshot.pending == []
    assert waited >= 0.9  # it waited what Retry-After asked before asking again
