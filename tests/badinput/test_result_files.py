"""Result files a server sends back (issue 28, item 9).

Before: results were written with mode 0600 whatever the umask (a studio's shared output folder
then held files only their renderer could read); the server chose the extension (`payload.sh` and
a `.desktop` launcher were written as results); and a gzip-encoded /view turned a few kB on the
wire into a file of any size. Every server here is a simulator on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from nuke_comfyui.cli.main import main
from nuke_comfyui.sim.faults import HttpFaults

pytestmark = pytest.mark.integration
WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json"


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _render(tmp_path: Path, url: str, capsys: pytest.CaptureFixture, **settings: Any) -> Dict[str, Any]:
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": "bad", "url": url}], "retries": 0, **settings}))
    main(["render", str(WORKFLOW), "--output", str(tmp_path / "out"), "--config", str(config),
          "--journal", str(tmp_path / "j.sqlite3"), "--json"])
    summary: Dict[str, Any] = json.loads(capsys.readouterr().out)
    return summary


def test_results_honour_the_umask(sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture,
                                  umask_022: None) -> None:
    cluster = sim_cluster(1)
    summary = _render(tmp_path, cluster.urls[0], capsys)
    assert summary["state"] == "completed", summary
    (path,) = summary["jobs"][0]["outputs"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # 0666 & ~022, as every other tool's files


@pytest.mark.parametrize("name", ["payload.sh", "evil.desktop", "noext"])
def test_an_output_that_is_not_a_result_type_is_refused_by_name(sim_cluster: Any, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture, name: str) -> None:
    cluster = sim_cluster(1)
    cluster.servers[0].options.faults = HttpFaults(output_name=name)
    summary = _render(tmp_path, cluster.urls[0], capsys)
    error = summary["jobs"][0]["error"]
    ext = os.path.splitext(name)[1] or "no extension"
    assert (f"server bad is misbehaving: server sent an output named {name!r}: {ext} is not an image, video, "
            "audio or data extension a workflow saves; refusing to write it; nothing was fetched or written") \
        in error
    assert not list((tmp_path / "out").rglob(name))


def test_a_decompression_bomb_stops_at_the_result_cap(sim_cluster: Any, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    cluster = sim_cluster(1)
    cluster.servers[0].options.faults = HttpFaults(gzip_view_mb=8)  # ~8 kB on the wire
    summary = _render(tmp_path, cluster.urls[0], capsys, max_result_mb=1)
    error = summary["jobs"][0]["error"]
    assert (f"GET /view: {cluster.urls[0]} sent more than 1 MB for") in error
    assert "(decoded), more than a result may be; raise max_result_mb in the settings" in error
    written = [p.name for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert written == [".nuke_comfyui_group"]  # the group's marker only: no result, no temporary file
