"""`render --servers <subset>` ends, whatever its servers do (issue 28, item 1).

Before: with two servers configured and `--servers sim0`, a job sim0 refused was excluded from
sim0, the subset excluded sim1, and the render waited silently for ever. Three refusals reproduce
it on the simulator: a frame the server cannot read, a 400 from /prompt that is not JSON (a proxy's
page), and a 413 from /upload/image (a proxy's body limit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Tuple

import pytest
from hostile import farm_config, run_bounded

from nuke_comfyui.sim.faults import HttpFaults

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES: Dict[str, Tuple[bool, Dict[str, Any]]] = {  # case -> (plates whole, faults of sim0)
    "unreadable-plate": (False, {}),
    "non-json-400": (True, {"POST /prompt": (400, "<html>Bad Request</html>", {})}),
    "upload-413": (True, {"POST /upload/image": (413, "Request Entity Too Large", {})}),
}


def _plates(folder: Path, readable: bool) -> str:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for frame in (1, 2):
        path = folder / f"plate.{frame:04d}.png"
        Image.new("RGB", (64, 64), (frame * 40, 0, 0)).save(path)
        if not readable:  # a PNG cut short: its header passes a check, the server cannot decode it
            path.write_bytes(path.read_bytes()[:60])
    return str(folder / "plate.####.png")


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_subset_whose_only_server_refuses_ends_failed(sim_cluster: Any, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture, case: str) -> None:
    readable, answers = CASES[case]
    cluster = sim_cluster(2)
    cluster.servers[0].options.faults = HttpFaults(answers=answers)
    argv = ["render", str(EXAMPLES / "img2img.json"), "--input", _plates(tmp_path / "plates", readable),
            "--frames", "1-2", "--output", str(tmp_path / "out"), "--servers", "sim0",
            "--config", str(farm_config(tmp_path, cluster.urls)), "--journal", str(tmp_path / "j.sqlite3")]
    assert run_bounded(argv, 60.0) == 1
    out = capsys.readouterr()
    assert "0/2 completed, 2 failed" in out.out, out
    assert cluster.servers[1].prompt_count == 0  # the subset held: sim1 never got a prompt
