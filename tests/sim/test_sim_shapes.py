"""The simulator answers with the same shapes as the recorded ComfyUI 0.8 traffic."""

from __future__ import annotations

import copy

import pytest
import requests
from simkit import TINY, assert_same_shape, capture, png_bytes, upload, wait_history

pytestmark = pytest.mark.integration


@pytest.fixture
def server(sim_cluster):  # type: ignore[no-untyped-def]
    cluster = sim_cluster(1)
    url = cluster.urls[0]
    assert upload(url, "acc_in.png", png_bytes()).status_code == 200
    return url


@pytest.mark.parametrize(
    "path",
    [
        "/system_stats",
        "/prompt",
        "/queue",
        "/features",
        "/object_info/LoadImage",
        "/object_info/DoesNotExist",
    ],
)
def test_baseline_gets_match_capture(server, path):
    real = capture("00_baseline_gets.json")[path]
    for prefix in ("", "/api"):
        response = requests.get(server + prefix + path, timeout=5)
        assert response.status_code == real["status"]
        assert response.headers["Content-Type"] == real["content_type"]
        body = response.json()
        if path.startswith("/object_info/LoadImage"):
            real_body = copy.deepcopy(real["body"])
            real_body["LoadImage"]["input"]["required"]["image"][0] = ["acc_in.png"]
            assert body == real_body
        else:
            assert_same_shape(body, real["body"])


def test_empty_history_and_jobs_match_capture(sim_cluster):
    url = sim_cluster(1).urls[0]
    base = capture("00_baseline_gets.json")
    assert requests.get(url + "/history", timeout=5).json() == base["/history"]["body"]
    assert requests.get(url + "/api/jobs", timeout=5).json() == base["/api/jobs"]["body"]


def test_object_info_lists_the_runnable_node_set(server):
    info = requests.get(server + "/object_info", timeout=5).json()
    real = capture("00_object_info_subset.json")
    for name in (
        "KSampler",
        "KSamplerAdvanced",
        "LoadImage",
        "SaveImage",
        "PreviewImage",
        "ImageInvert",
        "ImageScale",
        "ImageScaleBy",
        "ImageBlur",
        "EmptyImage",
        "CheckpointLoaderSimple",
        "CLIPTextEncode",
        "EmptyLatentImage",
        "VAEEncode",
        "VAEDecode",
    ):
        assert_same_shape(info[name], real[name])
    assert "sim-model.safetensors" in info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]


def test_upload_cases_match_capture(server):
    cases = {c["case"]: c for c in capture("01_upload_image.json")}
    same = upload(server, "acc_in.png", png_bytes())
    assert same.json() == cases["same name, identical bytes (no overwrite) -> dedup, same name"]["body"]
    other = upload(server, "acc_in.png", png_bytes(color=(1, 2, 3)))
    assert other.json() == cases["same name, different bytes (no overwrite) -> renamed"]["body"]
    over = upload(server, "acc_in.png", png_bytes(color=(1, 2, 3)), overwrite="true")
    assert over.json() == cases["same name, different bytes, overwrite=true"]["body"]
    sub = upload(server, "acc_sub.png", png_bytes(), subfolder="accsub", type="input")
    assert sub.json() == cases["subfolder + type=input"]["body"]
    tmp = upload(server, "acc_tmp.png", png_bytes(), type="temp")
    assert tmp.json() == cases["type=temp"]["body"]
    missing = requests.post(server + "/upload/image", files={"file": ("x.png", b"x")}, timeout=5)
    assert missing.status_code == 400 and missing.text == ""
    evil = upload(server, "evil.png", png_bytes(), subfolder="../../tmp")
    assert evil.status_code == 400


def test_post_prompt_history_view_and_job_match_capture(server):
    post = capture("02_post_prompt.json")
    response = requests.post(server + "/prompt", json=post["request"], timeout=5)
    assert response.status_code == 200
    assert_same_shape(response.json(), post["response"])
    prompt_id = response.json()["prompt_id"]
    entry = wait_history(server, prompt_id)
    real = capture("04_history_and_view.json")
    real_entry = next(iter(real["history_by_id"].values()))
    assert_same_shape(entry, real_entry)
    assert entry["prompt"][3] == {
        **post["request"]["extra_data"],
        "client_id": "acc-client-1",
        "create_time": entry["prompt"][3]["create_time"],
    }
    assert entry["outputs"] == real_entry["outputs"]
    assert [m[0] for m in entry["status"]["messages"]] == [m[0] for m in real_entry["status"]["messages"]]
    job = requests.get(server + f"/api/jobs/{prompt_id}", timeout=5).json()
    assert_same_shape(job, real["api_jobs_id"])
    assert job["status"] == "completed" and job["workflow_id"] == "wf-acc-1"
    view = requests.get(server + "/view", params=real["view"]["params"], timeout=5)
    assert view.status_code == 200 and view.headers["Content-Type"] == "image/png"
    assert view.headers["Content-Disposition"] == real["view"]["headers"]["Content-Disposition"]
    assert view.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert requests.get(server + "/history/nope", timeout=5).json() == real["history_unknown_id"]
    assert requests.get(server + "/view", params={"filename": "nope.png"}, timeout=5).status_code == 404
    assert requests.get(server + "/view", params={"filename": "../x.png"}, timeout=5).status_code == 400
    assert requests.get(server + "/api/jobs/unknown-id", timeout=5).status_code == 404


def test_ws_message_order_matches_capture(server, ws_factory):
    real = capture("03_ws_messages_tiny.json")
    ws = ws_factory(server, "acc-client-1")
    first = ws.recv()
    assert first == real["on_connect"][0]["msg"]
    ws.ws.send('{"type": "feature_flags", "data": {"supports_preview_metadata": true}}')
    assert ws.recv() == real["on_connect"][1]["msg"]
    prompt_id = requests.post(
        server + "/prompt", json={"prompt": TINY, "client_id": "acc-client-1"}, timeout=5
    ).json()["prompt_id"]
    ours = ws.until_done(prompt_id)
    theirs = [m["msg"] for m in real["messages_after_post"]]
    assert [m["type"] for m in ours] == [m["type"] for m in theirs]
    for a, b in zip(ours, theirs):
        assert_same_shape(a, b)
    assert ours[-3]["data"].keys() == theirs[-3]["data"].keys()


@pytest.mark.parametrize("case_index", range(len(capture("05_invalid_prompts.json"))))
def test_invalid_prompts_match_capture(server, case_index):
    case = capture("05_invalid_prompts.json")[case_index]
    request = case["request"]
    if isinstance(request, str):
        response = requests.post(server + "/prompt", data=b'{"prompt": {', timeout=5)
    else:
        response = requests.post(server + "/prompt", json=request, timeout=5)
    assert response.status_code == case["status"], case["case"]
    assert response.headers["Content-Type"] == case["content_type"]
    if case["status"] == 500:
        assert response.text == case["body"]
        return
    body = response.json()
    if case["status"] == 200:
        body.pop("prompt_id")
        body.pop("number")
        expected = {k: v for k, v in case["body"].items() if k not in ("prompt_id", "number")}
        assert body == expected
        return
    for errors in list(body["node_errors"].values()) + list(case["body"]["node_errors"].values()):
        for err in errors["errors"]:
            err.get("extra_info", {}).pop("traceback", None)
    assert body == case["body"], case["case"]
