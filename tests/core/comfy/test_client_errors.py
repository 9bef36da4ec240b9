"""Error typing and protocol traps of ComfyClient, against a scripted local HTTP server."""

from __future__ import annotations

import json
import socket

import pytest
from comfykit import FakeAuth, capture, server_config
from fake_http import FakeServer, json_answer, text_answer

from nuke_comfyui.core.comfy.client import ComfyClient, UnsupportedEndpoint
from nuke_comfyui.core.comfy.types import PromptState
from nuke_comfyui.core.errors import (
    AuthError,
    PromptValidationError,
    ProtocolError,
    ServerError,
    ServerUnavailable,
)

PID = "11111111-2222-3333-4444-555555555555"


def client_for(server: FakeServer, **kwargs: object) -> ComfyClient:
    kwargs.setdefault("backoff", 0.001)
    return ComfyClient(server_config(server.url), **kwargs)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_port_is_server_unavailable_after_retries() -> None:
    client = ComfyClient(server_config(f"http://127.0.0.1:{free_port()}"), retries=1, backoff=0.001,
                         connect_timeout=0.5)
    with pytest.raises(ServerUnavailable, match="cannot reach"):
        client.queue()


def test_plain_text_500_is_server_error(fake_server: FakeServer) -> None:
    trouble = "500 Internal Server Error\n\nServer got itself in trouble"
    fake_server.routes[("POST", "/prompt")] = text_answer(trouble, 500)
    with pytest.raises(ServerError, match=r"HTTP 500.*Server got itself in trouble") as info:
        client_for(fake_server).submit({}, client_id="c", prompt_id=PID)
    assert info.value.status == 500


@pytest.mark.parametrize("body", [b"<html>proxy login</html>", b"", b"[1, 2]", b"{not json"])
def test_garbage_is_protocol_error(fake_server: FakeServer, body: bytes) -> None:
    fake_server.routes[("GET", "/system_stats")] = (200, "text/html", body)
    with pytest.raises(ProtocolError):
        client_for(fake_server).system_stats()


@pytest.mark.parametrize("payload", [
    {"queue_running": "x", "queue_pending": []},
    {"queue_running": [], "queue_pending": [["nope"]]},
    {"queue_running": [[1]], "queue_pending": []},
    {"queue_running": [], "queue_pending": [[1, 2, {}, {}, []]]},
])
def test_wrong_queue_shapes_are_protocol_errors(fake_server: FakeServer, payload: object) -> None:
    fake_server.routes[("GET", "/queue")] = json_answer(payload)
    with pytest.raises(ProtocolError):
        client_for(fake_server).queue()


@pytest.mark.parametrize("payload", [
    {"system": {}, "devices": "gpu"},
    {"system": {}, "devices": [{"name": "cuda:0", "type": "cuda", "vram_total": "lots", "vram_free": 1}]},
    {"system": {}, "devices": [7]},
])
def test_wrong_stats_shapes_are_protocol_errors(fake_server: FakeServer, payload: object) -> None:
    fake_server.routes[("GET", "/system_stats")] = json_answer(payload)
    with pytest.raises(ProtocolError):
        client_for(fake_server).system_stats()


def test_history_not_holding_the_prompt_is_protocol_error(fake_server: FakeServer) -> None:
    fake_server.routes[("GET", f"/history/{PID}")] = json_answer({"other": {}})
    with pytest.raises(ProtocolError):
        client_for(fake_server).history(PID)


def test_queue_remaining_without_exec_info_is_protocol_error(fake_server: FakeServer) -> None:
    fake_server.routes[("GET", "/prompt")] = json_answer({"exec_info": {}})
    with pytest.raises(ProtocolError):
        client_for(fake_server).queue_remaining()


@pytest.mark.parametrize("status,body,hint", [(401, b"Unauthorized", "auth settings"), (403, b"", "Origin")])
def test_401_403_are_auth_errors(fake_server: FakeServer, status: int, body: bytes, hint: str) -> None:
    fake_server.routes[("GET", "/queue")] = (status, "text/plain", body)
    with pytest.raises(AuthError, match=hint):
        client_for(fake_server).queue()


def test_auth_headers_sent_and_never_an_origin(fake_server: FakeServer) -> None:
    fake_server.routes[("GET", "/prompt")] = json_answer({"exec_info": {"queue_remaining": 2}})
    config = server_config(fake_server.url, auth=FakeAuth({"Authorization": "Bearer s3cret"}))
    assert ComfyClient(config).queue_remaining() == 2
    headers = {k.lower(): v for k, v in fake_server.requests[-1].headers.items()}
    assert headers["authorization"] == "Bearer s3cret"
    assert "origin" not in headers


def test_400_renders_node_errors_one_line_per_input(fake_server: FakeServer) -> None:
    cases = capture("05_invalid_prompts.json")
    bad_image = next(c for c in cases if "LoadImage file does not exist" in c["case"])
    fake_server.routes[("POST", "/prompt")] = json_answer(bad_image["body"], 400)
    with pytest.raises(PromptValidationError) as info:
        client_for(fake_server).submit(bad_image["request"]["prompt"], client_id="c", prompt_id=PID)
    text = str(info.value)
    assert "node 1 (LoadImage) input image: Invalid image file: nope.png" in text
    assert info.value.node_errors["1"]["class_type"] == "LoadImage"
    assert fake_server.count("POST", "/prompt") == 1  # never retried


def test_400_without_node_errors_uses_error_details(fake_server: FakeServer) -> None:
    cases = capture("05_invalid_prompts.json")
    unknown = next(c for c in cases if c["case"] == "unknown class_type")
    fake_server.routes[("POST", "/prompt")] = json_answer(unknown["body"], 400)
    with pytest.raises(PromptValidationError, match=r"NoSuchNode does not exist.*Node ID '#2'"):
        client_for(fake_server).submit({}, client_id="c", prompt_id=PID)


def test_400_with_garbage_body_is_protocol_error(fake_server: FakeServer) -> None:
    fake_server.routes[("POST", "/prompt")] = text_answer("bad", 400)
    with pytest.raises(ProtocolError):
        client_for(fake_server).submit({}, client_id="c", prompt_id=PID)


def test_200_with_node_errors_is_kept_as_warning(fake_server: FakeServer) -> None:
    errors = {"5": {"errors": [{"type": "x", "message": "Required input is missing", "details": "images",
                                "extra_info": {"input_name": "images"}}], "class_type": "SaveImage"}}
    answer = {"prompt_id": PID, "number": 3, "node_errors": errors}
    fake_server.routes[("POST", "/prompt")] = json_answer(answer)
    result = client_for(fake_server).submit({"1": {}}, client_id="cid", prompt_id=PID, front=True)
    assert (result.prompt_id, result.number, result.node_errors) == (PID, 3, errors)
    sent = json.loads(fake_server.requests[-1].body)
    assert sent["client_id"] == "cid" and sent["prompt_id"] == PID and sent["front"] is True


def test_lost_post_answer_is_not_resent_when_the_server_knows_the_prompt(fake_server: FakeServer) -> None:
    fake_server.routes[("POST", "/prompt")] = lambda request: None  # connection dropped, no answer
    fake_server.routes[("GET", f"/api/jobs/{PID}")] = json_answer({"id": PID, "status": "pending"})
    result = client_for(fake_server).submit({}, client_id="c", prompt_id=PID)
    assert result.prompt_id == PID and result.number == -1
    assert fake_server.count("POST", "/prompt") == 1


def test_lost_post_is_resent_only_when_the_server_does_not_know_it(fake_server: FakeServer) -> None:
    posts = []

    def flaky(request: object) -> object:
        posts.append(request)
        return None if len(posts) == 1 else json_answer({"prompt_id": PID, "number": 7, "node_errors": {}})

    fake_server.routes[("POST", "/prompt")] = flaky  # type: ignore[assignment]
    fake_server.routes[("GET", f"/api/jobs/{PID}")] = json_answer({"error": "Job not found"}, 404)
    result = client_for(fake_server).submit({}, client_id="c", prompt_id=PID)
    assert result.number == 7 and len(posts) == 2


def test_queue_pending_sorted_by_number_and_only_first_five_read(fake_server: FakeServer) -> None:
    item = lambda n, pid: [n, pid, {}, {"client_id": f"c{n}"}, ["9"], "sixth field", {"x": 1}]  # noqa: E731
    fake_server.routes[("GET", "/queue")] = json_answer({
        "queue_running": [item(1, "r")],
        "queue_pending": [item(5, "e"), item(2, "b"), item(4, "d"), item(3, "c")],
    })
    snap = client_for(fake_server).queue()
    assert [i.prompt_id for i in snap.pending] == ["b", "c", "d", "e"]
    assert snap.running[0].client_id == "c1"


def test_history_empty_answer_is_none(fake_server: FakeServer) -> None:
    fake_server.routes[("GET", f"/history/{PID}")] = json_answer({})
    assert client_for(fake_server).history(PID) is None


def test_history_failure_from_messages(fake_server: FakeServer) -> None:
    later = capture("11_progress_messages_upscale.json")["mid_node_interrupt"]
    entry = {"prompt": [], "outputs": {}, "status": later["history_status_queried_later"]}
    fake_server.routes[("GET", f"/history/{PID}")] = json_answer({PID: entry})
    result = client_for(fake_server).history(PID)
    assert result is not None and result.failure is not None
    assert result.failure.interrupted and result.failure.node_type == "ImageUpscaleWithModel"
    assert result.status_str == "error" and not result.completed


def test_jobs_route_missing_falls_back_and_is_remembered(fake_server: FakeServer) -> None:
    fake_server.routes[("GET", "/queue")] = json_answer({"queue_running": [[0, PID, {}, {}, []]],
                                                         "queue_pending": []})
    fake_server.routes[("GET", "/history/other")] = json_answer({})
    client = client_for(fake_server)
    with pytest.raises(UnsupportedEndpoint):
        client.job(PID)
    assert client.prompt_state(PID) is PromptState.RUNNING
    assert client.prompt_state("other") is PromptState.UNKNOWN  # neither queued nor in history
    assert fake_server.count("GET", f"/api/jobs/{PID}") == 2  # job() + first prompt_state only


def test_fallback_reads_history_for_finished_prompts(fake_server: FakeServer) -> None:
    fake_server.routes[("GET", "/queue")] = json_answer({"queue_running": [], "queue_pending": [[3, PID]]})
    fake_server.routes[("GET", "/history/done")] = json_answer(
        {"done": {"outputs": {}, "status": {"status_str": "success", "completed": True, "messages": []}}})
    fake_server.routes[("GET", "/history/bad")] = json_answer(
        {"bad": {"outputs": {}, "status": {"status_str": "error", "completed": False, "messages": [
            ["execution_error", {"node_id": "1", "node_type": "LoadImage",
                                 "exception_type": "FileNotFoundError", "exception_message": "gone"}]]}}})
    fake_server.routes[("GET", "/history/ghost")] = json_answer({})
    client = client_for(fake_server)
    states = {pid: client.prompt_state(pid).value for pid in (PID, "done", "bad", "ghost")}
    assert states == {PID: "pending", "done": "completed", "bad": "failed", "ghost": "unknown"}


def test_interrupt_is_always_targeted(fake_server: FakeServer) -> None:
    fake_server.routes[("POST", "/interrupt")] = (200, "text/plain", b"")
    client = client_for(fake_server)
    client.interrupt(PID)
    assert json.loads(fake_server.requests[-1].body) == {"prompt_id": PID}
    with pytest.raises(ValueError):
        client.interrupt("")
