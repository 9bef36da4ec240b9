"""What host turns into Read nodes: one sequence per variation, for frame ranges and for stills."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.render_request import RenderRequest

pytestmark = pytest.mark.integration
WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json"


def test_each_still_variation_is_a_one_frame_sequence(sim_cluster: Any, tmp_path: Path) -> None:
    cluster = sim_cluster(2)
    servers = [ServerConfig(name=f"gpu{i}", port=port) for i, port in enumerate(cluster.ports)]
    farm = Farm.from_config(ClusterConfig(servers=servers, poll_interval=0.1), journal_path=tmp_path / "j.sqlite")
    with farm:
        request = RenderRequest(workflow_path=str(WORKFLOW), output_dir=str(tmp_path / "out"), variations=3,
                                seed_strategy="sequential", base_seed=10, label="stills")
        snapshot = farm.scheduler.wait(farm.scheduler.submit(request), timeout=30)
    sequences = sorted(snapshot.sequences, key=lambda s: s.variation)
    assert [(s.variation, s.seed, s.first, s.last, s.frames_done) for s in sequences] == [
        (0, 10, 1, 1, [1]), (1, 11, 1, 1, [1]), (2, 12, 1, 1, [1])]
    for seq in sequences:
        assert "%" not in seq.pattern and Path(seq.pattern).is_file()
        assert Path(seq.pattern).is_relative_to(tmp_path / "out")
