"""Capabilities by release, the minimum, and finding a prompt on a server that made its own id."""

from __future__ import annotations

import json
from typing import Any, Optional

import pytest
from comfykit import server_config
from fake_http import FakeServer, json_answer, text_answer

from nuke_comfyui.core.comfy import prompt_marks
from nuke_comfyui.core.comfy.capabilities import (
    MINIMUM_VERSION,
    Capabilities,
    from_version,
    learn,
    observed_prompt_ids,
    parse_version,
)
from nuke_comfyui.core.comfy.client import ComfyClient, UnsupportedEndpoint
from nuke_comfyui.core.errors import ServerUnavailable

OURS = "11111111-2222-3333-4444-555555555555"
THEIRS = "99999999-8888-7777-6666-555555555555"


@pytest.mark.parametrize("version, ids, interrupt, jobs", [
    ("0.3.40", False, False, False),
    ("0.3.45", True, False, False),
    ("0.3.58", True, True, False),
    ("0.7.0", True, True, True),
    ("0.8.2", True, True, True),
    ("v0.33.0", True, True, True),
])
def test_features_by_release(version: str, ids: bool, interrupt: bool, jobs: bool) -> None:
    caps = from_version("gpu01", version)
    assert caps.known and caps.supported
    assert (caps.client_prompt_id, caps.targeted_interrupt, caps.jobs_api) == (ids, interrupt, jobs)


def test_summary_words() -> None:
    assert from_version("a", "0.8.2").summary() == "full"
    assert from_version("a", "0.3.40").summary() == "server-made prompt ids, untargeted interrupt, no jobs API"
    assert from_version("a", "0.3.58").summary() == "no jobs API"


def test_older_than_minimum_is_refused_naming_server_version_and_minimum() -> None:
    caps = from_version("gpu07", "0.3.39")
    assert not caps.supported and caps.known
    assert caps.refusal is not None
    for needle in ("gpu07", "0.3.39", MINIMUM_VERSION, "upgrade"):
        assert needle in caps.refusal
    assert caps.summary() == f"refused (older than {MINIMUM_VERSION})"
    assert from_version("gpu07", MINIMUM_VERSION).supported


@pytest.mark.parametrize("version", [None, "", "git-abcdef", "unknown"])
def test_unreadable_version_assumes_the_oldest_safe_behaviour(version: Optional[str]) -> None:
    caps = from_version("gpu01", version)
    assert caps.supported and not caps.known
    assert not (caps.client_prompt_id or caps.targeted_interrupt or caps.jobs_api)
    assert caps.summary().startswith("unknown version: assuming")
    assert caps == Capabilities(version=version)


def test_parse_version_forms() -> None:
    assert parse_version("0.3.45-3-gabc") == (0, 3, 45)
    assert parse_version("1.2") == (1, 2, 0)
    assert parse_version("x1.2") is None


def test_observation_corrects_the_version_guess() -> None:
    caps = from_version("a", "0.8.2")
    assert observed_prompt_ids(caps, True) is caps
    corrected = observed_prompt_ids(caps, False)
    assert not corrected.client_prompt_id and corrected.targeted_interrupt


class _JobsClient:
    def __init__(self, error: Optional[Exception]) -> None:
        self.error = error
        self.asked: list = []

    def job(self, prompt_id: str) -> Any:
        self.asked.append(prompt_id)
        if self.error is not None:
            raise self.error
        return None


def test_the_jobs_probe_beats_the_version() -> None:
    backported = learn("a", "0.3.60", _JobsClient(None))  # a fork with the jobs API backported
    assert backported.jobs_api
    stripped = learn("a", "0.8.2", _JobsClient(UnsupportedEndpoint("no route", "a")))
    assert not stripped.jobs_api
    unsure = learn("a", "0.8.2", _JobsClient(ServerUnavailable("down", "a")))
    assert unsure.jobs_api  # an error proves nothing: the version's answer stands
    refused = _JobsClient(None)
    learn("a", "0.3.1", refused)
    assert refused.asked == []  # a refused server is not probed further


def _item(number: int, server_id: str, ours: Optional[str]) -> list:
    extra = {"client_id": "c"}
    if ours:
        extra[prompt_marks.MARK_KEY] = ours
    return [number, server_id, {}, extra, ["9"]]


def test_marks_are_found_in_queue_and_history_only_for_our_id() -> None:
    queue = {"queue_running": [_item(1, "r", "someone")], "queue_pending": [_item(2, THEIRS, OURS)]}
    assert prompt_marks.find_in_queue(queue, OURS) == THEIRS
    assert prompt_marks.find_in_queue(queue, "nobody") is None
    history = {"h1": {"prompt": _item(3, "h1", None)}, THEIRS: {"prompt": _item(4, THEIRS, OURS)}}
    assert prompt_marks.find_in_history(history, OURS) == THEIRS
    assert prompt_marks.find_in_history({"bad": {"prompt": "garbage"}}, OURS) is None
    assert prompt_marks.marked({"a": 1}, OURS) == {"a": 1, prompt_marks.MARK_KEY: OURS}


def test_a_lost_answer_on_an_old_server_is_found_by_its_mark_and_not_sent_again(
        fake_server: FakeServer) -> None:
    posts = []

    def lost(request: Any) -> None:
        posts.append(json.loads(request.body))
        return None  # the POST landed, the answer never came back

    fake_server.routes[("POST", "/prompt")] = lost  # type: ignore[assignment]
    fake_server.routes[("GET", f"/api/jobs/{OURS}")] = text_answer("404: Not Found", 404)
    fake_server.routes[("GET", "/queue")] = json_answer({"queue_running": [], "queue_pending": [
        _item(5, THEIRS, OURS)]})
    fake_server.routes[("GET", f"/history/{OURS}")] = json_answer({})
    client = ComfyClient(server_config(fake_server.url), backoff=0.001)  # type: ignore[arg-type]
    result = client.submit({}, client_id="c", prompt_id=OURS)
    assert result.prompt_id == THEIRS and len(posts) == 1
    assert posts[0]["extra_data"][prompt_marks.MARK_KEY] == OURS


def test_client_on_old_sim_server_gets_the_servers_id_and_finds_it_again(sim_cluster: Any) -> None:
    from nuke_comfyui.core.config import ServerConfig

    cluster = sim_cluster(1, comfy_version="0.3.40", hang_after=0)
    client = ComfyClient(ServerConfig(name="old", port=cluster.ports[0]))
    prompt = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1,
                                                           "color": 0}},
              "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}}
    result = client.submit(prompt, client_id="c", prompt_id=OURS)
    assert result.prompt_id != OURS
    assert client.find_prompt(OURS) == result.prompt_id
    assert client.find_prompt("never-sent") is None
    client.delete_pending([result.prompt_id])
    client.interrupt(result.prompt_id)
