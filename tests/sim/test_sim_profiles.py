"""Version profiles: each simulated release has exactly the protocol behaviours of that release."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from simkit import wait_for, wait_history

from nuke_comfyui.sim.profiles import VersionProfile, parse

pytestmark = pytest.mark.integration

HANG = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "p"}},
}


def _post(url, prompt_id=None, client_id="c"):
    body = {"prompt": HANG, "client_id": client_id}
    if prompt_id:
        body["prompt_id"] = prompt_id
    response = requests.post(url + "/prompt", json=body, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["prompt_id"]


def _running(url):
    queue = requests.get(url + "/queue", timeout=5).json()
    return [item[1] for item in queue["queue_running"]]


@pytest.mark.parametrize("version, honours, targeted, jobs", [
    ("0.3.40", False, False, False),
    ("0.3.44", False, False, False),
    ("0.3.45", True, False, False),
    ("0.3.57", True, False, False),
    ("0.3.58", True, True, False),
    ("0.6.9", True, True, False),
    ("0.7.0", True, True, True),
    ("0.8.2", True, True, True),
    ("0.33.0", True, True, True),
])
def test_profile_thresholds(version, honours, targeted, jobs):
    profile = VersionProfile.of(version)
    assert (profile.honours_client_prompt_id, profile.targeted_interrupt, profile.jobs_api) == (
        honours, targeted, jobs)


def test_parse_accepts_release_forms_and_rejects_others():
    assert parse("v0.3.40") == (0, 3, 40)
    assert parse("0.8") == (0, 8, 0)
    assert parse("0.3.45-12-gabcdef") == (0, 3, 45)
    with pytest.raises(ValueError, match=r"like 0\.3\.40"):
        parse("latest")


def test_old_server_ignores_client_prompt_id_and_answers_with_its_own(sim_cluster):
    old, new = sim_cluster(2, comfy_version=["0.3.40", "0.3.45"]).urls
    theirs = _post(old, prompt_id="ours-1")
    assert theirs != "ours-1"
    wait_history(old, theirs)
    assert requests.get(old + "/history/ours-1", timeout=5).json() == {}
    assert _post(new, prompt_id="ours-2") == "ours-2"
    wait_history(new, "ours-2")


def test_system_stats_reports_the_profile_version(sim_cluster):
    urls = sim_cluster(2, comfy_version=["0.3.40", None]).urls
    versions = [requests.get(u + "/system_stats", timeout=5).json()["system"]["comfyui_version"] for u in urls]
    assert versions == ["0.3.40", "0.8.0"]


def test_jobs_api_only_from_0_7(sim_cluster):
    old, new = sim_cluster(2, comfy_version=["0.6.0", "0.7.0"]).urls
    missing = requests.get(old + "/api/jobs/nothing", timeout=5)
    assert missing.status_code == 404
    with pytest.raises(ValueError):
        missing.json()  # a plain 404, not the jobs API's {"error": ...}
    assert requests.get(old + "/api/jobs", timeout=5).status_code == 404
    assert requests.get(new + "/api/jobs/nothing", timeout=5).json() == {"error": "Job not found"}


@pytest.mark.parametrize("version, stops_other", [("0.3.57", True), ("0.3.58", False)])
def test_interrupt_with_another_prompt_id(sim_cluster, version, stops_other):
    url = sim_cluster(1, comfy_version=version, hang_after=0).urls[0]
    running = _post(url)
    wait_for(lambda: _running(url) == [running])
    requests.post(url + "/interrupt", json={"prompt_id": "someone-else"}, timeout=5)
    if stops_other:
        entry = wait_history(url, running)
        assert entry["status"]["messages"][-1][0] == "execution_interrupted"
    else:
        assert _running(url) == [running]
        assert requests.get(f"{url}/history/{running}", timeout=5).json() == {}
        requests.post(url + "/interrupt", json={"prompt_id": running}, timeout=5)
        wait_history(url, running)


def test_bad_version_is_a_clear_error(tmp_path):
    from nuke_comfyui.sim.cluster import SimCluster

    with pytest.raises(ValueError, match=r"0\.3\.40 or 0\.8\.2"):
        SimCluster(1, base_dir=tmp_path, comfy_version="newest")
    with pytest.raises(ValueError, match="2 values for 3 servers"):
        SimCluster(3, base_dir=tmp_path, comfy_version=["0.3.40", "0.8.2"])


def test_cli_flag_rejects_a_bad_version():
    result = subprocess.run([sys.executable, "-m", "nuke_comfyui", "sim", "--servers", "1", "--port", "0",
                             "--comfy-version", "banana"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "comfy-version" in result.stderr and "0.3.40" in result.stderr
    assert "Traceback" not in result.stderr
