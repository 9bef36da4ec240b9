"""Issue #23's silent-loss bug: `render invert.json --frames 1-10 --chunk-size 2` exited 0 with
"5/5 completed" and only frames 1, 3, 5, 7, 9 on disk. Every frame of a chunk must be rendered
and delivered under its own number, with its own pixels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from nuke_comfyui.cli.main import main

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_chunk_size_two_renders_every_frame_of_the_shot(sim_cluster: Any, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(2)
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": f"sim{i}", "url": url} for i, url in enumerate(cluster.urls)]}))
    plates = tmp_path / "plates"
    plates.mkdir()
    for frame in range(1, 11):
        Image.new("RGB", (8, 8), (frame * 20, 255 - frame * 20, 7)).save(plates / f"plate.{frame:04d}.png")
    argv = ["render", str(EXAMPLES / "invert.json"), "--output", str(tmp_path / "out"),
            "--input", str(plates / "plate.####.png"), "--frames", "1-10", "--chunk-size", "2",
            "--config", str(config), "--journal", str(tmp_path / "j.sqlite3"), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["state"] == "completed"
    delivered = sorted(Path(p) for job in summary["jobs"] for p in job["outputs"])
    assert [int(p.name.split(".")[-2]) for p in delivered] == list(range(1, 11))
    for path in delivered:
        frame = int(path.name.split(".")[-2])
        with Image.open(path) as img:
            assert img.convert("RGB").getpixel((3, 3)) == (255 - frame * 20, frame * 20, 248), path.name
