"""`GET /system_stats` read into SystemStats: the real answer, and answers of the wrong shape named."""

from __future__ import annotations

import pytest

from nuke_comfyui.core.comfy.system_stats import BadStats, read_system_stats


def test_a_cpu_servers_answer() -> None:
    answer = {"system": {"os": "posix", "comfyui_version": "0.33.0", "python_version": "3.11.7"},
              "devices": [{"name": "cpu", "type": "cpu", "index": None, "vram_total": 25324953600,
                           "vram_free": 23613259776, "torch_vram_total": 0, "torch_vram_free": 0}]}
    stats = read_system_stats(answer)
    assert (stats.comfyui_version, stats.os, stats.cpu_only) == ("0.33.0", "posix", True)
    assert stats.devices[0].vram_total == 25324953600


@pytest.mark.parametrize(("answer", "reason"), [
    ([], "the answer has no system object"),
    ({"system": "x"}, "the answer has no system object"),
    ({"system": {}, "devices": {}}, "devices is not a list"),
    ({"system": {}, "devices": ["gpu"]}, "a device is not an object"),
    ({"system": {}, "devices": [{"vram_total": "lots"}]}, "vram_total/vram_free are not numbers"),
])
def test_an_answer_of_the_wrong_shape_says_where(answer: object, reason: str) -> None:
    with pytest.raises(BadStats, match=reason):
        read_system_stats(answer)

