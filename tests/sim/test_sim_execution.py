"""Execution with real pixels, queue semantics and per-client WebSocket routing."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image
from simkit import TINY, png_bytes, upload, wait_for, wait_history

pytestmark = pytest.mark.integration

TXT2IMG = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sim-model.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 48, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "model": ["4", 0],
            "seed": 42,
            "steps": 5,
            "cfg": 7.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
            "denoise": 1.0,
        },
    },
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "t2i/out"}},
}


def _submit(url, prompt, client_id="c1", **extra):
    response = requests.post(
        url + "/prompt", json={"prompt": prompt, "client_id": client_id, **extra}, timeout=5
    )
    assert response.status_code == 200, response.text
    return response.json()


def _view(url, item):
    response = requests.get(url + "/view", params=item, timeout=5)
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.content)).convert("RGB")


def test_invert_uploaded_image_via_history_and_view(sim_cluster):
    cluster = sim_cluster(2)
    url = cluster.urls[1]
    name = upload(url, "plate.png", png_bytes(color=(10, 200, 30))).json()["name"]
    prompt = {**TINY, "1": {"class_type": "LoadImage", "inputs": {"image": name}}}
    prompt_id = _submit(url, prompt)["prompt_id"]
    entry = wait_history(url, prompt_id)
    item = entry["outputs"]["3"]["images"][0]
    assert item == {"filename": "tiny_00001_.png", "subfolder": "acc", "type": "output"}
    assert _view(url, item).getpixel((0, 0)) == (245, 55, 225)
    assert (cluster.servers[1].base_dir / "output" / "acc" / "tiny_00001_.png").is_file()
    assert cluster.servers[1].executed_ids == [prompt_id] and cluster.servers[0].executed_ids == []


def test_loadimage_subfolder_and_temp_annotation(sim_cluster):
    url = sim_cluster(1).urls[0]
    upload(url, "a.png", png_bytes(color=(0, 0, 0)), subfolder="shot")
    upload(url, "b.png", png_bytes(color=(255, 255, 255)), type="temp")
    for image, expected in (("shot/a.png", (255, 255, 255)), ("b.png [temp]", (0, 0, 0))):
        prompt = {**TINY, "1": {"class_type": "LoadImage", "inputs": {"image": image}}}
        entry = wait_history(url, _submit(url, prompt)["prompt_id"])
        assert _view(url, entry["outputs"]["3"]["images"][0]).getpixel((1, 1)) == expected


def test_ksampler_progress_is_deterministic_per_seed(sim_cluster, ws_factory):
    url = sim_cluster(1).urls[0]
    ws = ws_factory(url, "c1")
    ws.recv()
    first = _submit(url, TXT2IMG)["prompt_id"]
    messages = ws.until_done(first)
    progress = [m["data"] for m in messages if m["type"] == "progress"]
    assert [p["value"] for p in progress] == [1, 2, 3, 4, 5]
    assert all(p["max"] == 5 and p["node"] == "3" and p["prompt_id"] == first for p in progress)
    img_a = _view(url, wait_history(url, first)["outputs"]["9"]["images"][0])
    other = {**TXT2IMG, "3": {**TXT2IMG["3"], "inputs": {**TXT2IMG["3"]["inputs"], "seed": 43}}}
    img_b = _view(url, wait_history(url, _submit(url, other)["prompt_id"])["outputs"]["9"]["images"][0])
    assert img_a.size == (64, 48) and img_a.tobytes() != img_b.tobytes()
    again = {**other, "9": {**other["9"], "inputs": {**other["9"]["inputs"], "filename_prefix": "t2i/again"}}}
    again["3"] = {**TXT2IMG["3"]}
    img_c = _view(url, wait_history(url, _submit(url, again)["prompt_id"])["outputs"]["9"]["images"][0])
    assert img_c.tobytes() == img_a.tobytes()


def test_img2img_with_ksampler_advanced(sim_cluster):
    url = sim_cluster(1).urls[0]
    upload(url, "plate.png", png_bytes(color=(100, 100, 100), size=(32, 32)))
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "plate.png"}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sim-model.safetensors"}},
        "2": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["4", 2]}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["4", 1]}},
        "3": {
            "class_type": "KSamplerAdvanced",
            "inputs": {
                "model": ["4", 0],
                "add_noise": "enable",
                "noise_seed": 7,
                "steps": 4,
                "cfg": 7.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "positive": ["6", 0],
                "negative": ["6", 0],
                "latent_image": ["2", 0],
                "start_at_step": 0,
                "end_at_step": 10000,
                "return_with_leftover_noise": "disable",
            },
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "10": {
            "class_type": "ImageScaleBy",
            "inputs": {"image": ["8", 0], "upscale_method": "bilinear", "scale_by": 0.5},
        },
        "9": {"class_type": "PreviewImage", "inputs": {"images": ["10", 0]}},
    }
    entry = wait_history(url, _submit(url, prompt)["prompt_id"])
    item = entry["outputs"]["9"]["images"][0]
    assert item["type"] == "temp" and item["filename"].startswith("ComfyUI_temp_")
    assert _view(url, item).size == (16, 16)


def test_identical_resubmit_is_cached_like_comfyui(sim_cluster, ws_factory):
    url = sim_cluster(1).urls[0]
    upload(url, "acc_in.png", png_bytes())
    ws = ws_factory(url, "c1")
    ws.recv()
    first = _submit(url, TINY)["prompt_id"]
    ws.until_done(first)
    second = _submit(url, TINY)["prompt_id"]
    messages = ws.until_done(second)
    cached = next(m for m in messages if m["type"] == "execution_cached")
    assert cached["data"]["nodes"] == ["1", "2", "3"]
    assert not [m for m in messages if m["type"] == "executing" and m["data"]["node"] is not None]
    assert wait_history(url, second)["outputs"] == wait_history(url, first)["outputs"]


def test_queue_numbers_front_heap_order_delete_and_targeted_interrupt(sim_cluster):
    url = sim_cluster(1, seconds_per_step=0.02).urls[0]
    slow = {**TXT2IMG, "3": {**TXT2IMG["3"], "inputs": {**TXT2IMG["3"]["inputs"], "steps": 10000}}}
    running = _submit(url, slow)
    assert running["number"] == 0
    wait_for(lambda: requests.get(url + "/queue", timeout=5).json()["queue_running"])
    ids = {}
    for label, extra in (
        ("n100", {"number": 100}),
        ("n5", {"number": 5}),
        ("default", {}),
        ("front", {"front": True}),
        ("neg", {"number": -1000.5}),
    ):
        seeded = {**slow, "3": {**slow["3"], "inputs": {**slow["3"]["inputs"], "seed": len(ids) + 1}}}
        ids[label] = _submit(url, seeded, **extra)
    assert ids["n100"]["number"] == 100.0 and ids["default"]["number"] == 1 and ids["front"]["number"] == -2
    queue = requests.get(url + "/queue", timeout=5).json()
    assert len(queue["queue_running"]) == 1 and len(queue["queue_running"][0]) == 5
    pending_numbers = [item[0] for item in queue["queue_pending"]]
    assert sorted(pending_numbers) == [-1000.5, -2, 1, 5.0, 100.0]
    assert requests.get(url + "/prompt", timeout=5).json() == {"exec_info": {"queue_remaining": 6}}
    assert requests.post(url + "/queue", json={"delete": [ids["n5"]["prompt_id"]]}, timeout=5).text == ""
    # a targeted interrupt of a pending prompt is a no-op
    requests.post(url + "/interrupt", json={"prompt_id": ids["neg"]["prompt_id"]}, timeout=5)
    assert requests.get(url + "/queue", timeout=5).json()["queue_running"][0][1] == running["prompt_id"]
    requests.post(url + "/interrupt", json={"prompt_id": running["prompt_id"]}, timeout=5)
    entry = wait_history(url, running["prompt_id"])
    assert entry["status"]["status_str"] == "error" and entry["status"]["completed"] is False
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"
    job = requests.get(url + f"/api/jobs/{running['prompt_id']}", timeout=5).json()
    assert job["status"] == "cancelled"
    # front-most (lowest number) runs next
    wait_for(
        lambda: (
            requests.get(url + "/queue", timeout=5).json()["queue_running"][0][1] == ids["neg"]["prompt_id"]
        )
    )
    listed = requests.get(url + "/api/jobs", params={"status": "pending"}, timeout=5).json()
    assert {j["id"] for j in listed["jobs"]} == {ids[k]["prompt_id"] for k in ("n100", "default", "front")}
    requests.post(url + "/queue", json={"clear": True}, timeout=5)
    assert requests.get(url + "/queue", timeout=5).json()["queue_pending"] == []
    assert requests.get(url + f"/history/{ids['n5']['prompt_id']}", timeout=5).json() == {}
    requests.post(url + "/interrupt", timeout=5)  # bare interrupt stops whatever runs
    assert wait_history(url, ids["neg"]["prompt_id"])["status"]["status_str"] == "error"


def test_history_max_items_offset_and_delete(sim_cluster):
    url = sim_cluster(1).urls[0]
    ids = []
    for i in range(4):
        prompt = {
            "1": {
                "class_type": "EmptyImage",
                "inputs": {"width": 4, "height": 4, "batch_size": 1, "color": i},
            },
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "h"}},
        }
        ids.append(_submit(url, prompt)["prompt_id"])
        wait_history(url, ids[-1])
    assert list(requests.get(url + "/history", params={"max_items": 2}, timeout=5).json()) == ids[2:]
    assert (
        list(requests.get(url + "/api/history", params={"max_items": 2, "offset": 0}, timeout=5).json())
        == ids[:2]
    )
    requests.post(url + "/history", json={"delete": [ids[0]]}, timeout=5)
    assert list(requests.get(url + "/history", timeout=5).json()) == ids[1:]
    requests.post(url + "/history", json={"clear": True}, timeout=5)
    assert requests.get(url + "/history", timeout=5).json() == {}


def test_two_outputs_one_invalid_runs_only_the_valid_one(sim_cluster):
    url = sim_cluster(1).urls[0]
    upload(url, "acc_in.png", png_bytes())
    prompt = {**TINY, "4": {"class_type": "SaveImage", "inputs": {"filename_prefix": "bad"}}}
    answer = _submit(url, prompt)
    assert answer["node_errors"]["4"]["errors"][0]["type"] == "required_input_missing"
    entry = wait_history(url, answer["prompt_id"])
    assert list(entry["outputs"]) == ["3"] and entry["prompt"][4] == ["3"]


def test_origin_mismatch_is_forbidden(sim_cluster):
    url = sim_cluster(1).urls[0]
    bad = requests.get(url + "/queue", headers={"Origin": "http://evil.example"}, timeout=5)
    assert bad.status_code == 403 and bad.text == ""
    host = url.split("//")[1]
    assert requests.get(url + "/queue", headers={"Origin": f"http://{host}"}, timeout=5).status_code == 200


def test_ws_routing_stealing_and_reconnect(sim_cluster, ws_factory):
    url = sim_cluster(1, seconds_per_step=0.01).urls[0]
    owner = ws_factory(url, "owner")
    spy = ws_factory(url, "spy")
    owner.recv()
    spy.recv()
    pid = _submit(url, TXT2IMG, client_id="owner")["prompt_id"]
    got = owner.until_done(pid)
    assert {"execution_start", "progress", "executed", "execution_success"} <= {m["type"] for m in got}
    assert {m["type"] for m in spy.drain()} == {"status"}
    thief = ws_factory(url, "owner")
    thief.recv()
    other = {**TXT2IMG, "3": {**TXT2IMG["3"], "inputs": {**TXT2IMG["3"]["inputs"], "seed": 99, "steps": 30}}}
    pid2 = _submit(url, other, client_id="owner")["prompt_id"]
    thief.until_done(pid2)
    assert owner.drain() == []  # like the capture: the first socket is orphaned and hears nothing
    # reconnect with the same clientId while its prompt runs: `executing` without prompt_id first
    long_run = {**other, "3": {**other["3"], "inputs": {**other["3"]["inputs"], "seed": 5, "steps": 2000}}}
    pid3 = _submit(url, long_run, client_id="owner")["prompt_id"]
    wait_for(lambda: any(m["type"] == "progress" for m in thief.drain(0.01)))
    thief.close()
    again = ws_factory(url, "owner")
    hello = again.recv()
    assert hello["type"] == "status" and hello["data"]["sid"] == "owner"
    current = again.recv()
    assert (
        current["type"] == "executing" and set(current["data"]) == {"node"} and current["data"]["node"] == "3"
    )
    assert again.recv()["data"]["prompt_id"] == pid3  # the stream continues on the new socket
    requests.post(url + "/interrupt", json={"prompt_id": pid3}, timeout=5)
    done = again.until_done(pid3)
    assert done[-3]["type"] == "execution_interrupted"


def test_anonymous_ws_gets_a_sid(sim_cluster, ws_factory):
    url = sim_cluster(1).urls[0]
    hello = ws_factory(url, None).recv()
    assert hello["type"] == "status" and len(hello["data"]["sid"]) == 32


def test_masks_from_alpha_match_a_real_comfyui_level_for_level(sim_cluster):
    """LoadImage's MASK and LoadImageMask(alpha) against what a real ComfyUI 0.8.0 saved for a 256-level
    alpha ramp (tests/sim/data/comfyui-0.8.0-mask-ramp.json, recorded on 127.0.0.1): 1 - alpha in
    float32, SaveImage truncating, so 159 of the 256 levels are one under 255 - alpha."""
    import json
    from pathlib import Path

    recorded = json.loads((Path(__file__).parent / "data" / "comfyui-0.8.0-mask-ramp.json").read_text())
    ramp = Image.new("RGBA", (256, 1))
    ramp.putdata([(10, 20, 30, a) for a in range(256)])
    buffer = io.BytesIO()
    ramp.save(buffer, format="PNG")
    url = sim_cluster(1).urls[0]
    name = upload(url, "ramp.png", buffer.getvalue()).json()["name"]
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "MaskToImage", "inputs": {"mask": ["1", 1]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "m/mask"}},
        "4": {"class_type": "LoadImageMask", "inputs": {"image": name, "channel": "alpha"}},
        "5": {"class_type": "MaskToImage", "inputs": {"mask": ["4", 0]}},
        "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "m/matte"}},
    }
    entry = wait_history(url, _submit(url, prompt)["prompt_id"])
    for node, key in (("3", "LoadImage_MASK"), ("6", "LoadImageMask_alpha")):
        saved = _view(url, entry["outputs"][node]["images"][0])
        assert [saved.getpixel((x, 0))[0] for x in range(256)] == recorded[key]
