"""The CLI's per-node progress: lines when stderr is not a terminal, the bar's suffix when it is,
and `render --json` unchanged."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, List, Optional

import pytest

from nuke_comfyui.cli.live_lines import LiveLines, describe_running, slowest, variation_tag
from nuke_comfyui.cli.progress import ProgressPrinter
from nuke_comfyui.core.scheduler import GroupUpdated
from nuke_comfyui.core.scheduler.live_board import LiveStatus


def status(job: int, value: float, total: float = 30, *, frame: Optional[int] = 1003, since: float = 0.0,
           title: str = "KSampler", server: str = "gpu2") -> LiveStatus:
    return LiveStatus(f"g.{job}", "g", frame, job, server, f"p{job}", "3", title, value, total, 1, since)


class Board:
    """The LiveBoard reads LiveLines makes: statuses of a group, and a counted watch."""

    def __init__(self) -> None:
        self.now: List[LiveStatus] = []
        self.watching = 0

    def statuses(self, group_id: Optional[str] = None) -> List[LiveStatus]:
        return [s for s in self.now if group_id in (None, s.group_id)]

    def watch(self, *, previews: bool = False) -> Callable[[], None]:
        assert not previews  # the CLI never asks for previews
        self.watching += 1

        def release() -> None:
            self.watching -= 1

        return release


def test_the_line_form() -> None:
    assert describe_running(status(0, 12)) == "frame 1003 var01 on gpu2: KSampler 12/30"
    assert describe_running(status(2, 0, 1, frame=None, title="VAE Decode")) == "var03 on gpu2: VAE Decode"
    assert variation_tag(9) == "var10"


def test_the_slowest_job_is_the_one_running_longest() -> None:
    early, late = status(0, 25, since=1.0), status(1, 2, since=5.0)
    assert slowest([late, early]) is early
    tie = status(2, 1, since=1.0)
    assert slowest([early, tie]) is tie  # same start: the one least far through its node
    assert slowest([status(3, 0, 0, title="")]) is None and slowest([]) is None


def test_at_most_one_line_per_job_every_interval_and_only_when_it_changed() -> None:
    board, lines = Board(), []
    live = LiveLines(board, "g", lines.append, tty=False, interval=5.0)
    board.now = [status(0, 1), status(1, 1, frame=1004)]
    assert live.print_due(now=100.0) == 2
    board.now = [status(0, 2), status(1, 1, frame=1004)]
    assert live.print_due(now=103.0) == 0  # job 0 moved, but its last line is 3 s old
    assert live.print_due(now=105.0) == 1  # now it may; job 1 has not changed
    board.now = [status(0, 2)]
    assert live.print_due(now=111.0) == 0
    assert lines == ["frame 1003 var01 on gpu2: KSampler 1/30", "frame 1004 var02 on gpu2: KSampler 1/30",
                     "frame 1003 var01 on gpu2: KSampler 2/30"]


def test_the_terminal_bar_names_the_slowest_job_and_asks_for_no_previews() -> None:
    board = Board()
    out = io.StringIO()
    printer = ProgressPrinter("g", stream=out, tty=True)
    live = LiveLines(board, "g", printer.write_line, tty=True).start()
    printer.live = live
    assert board.watching == 1
    board.now = [status(0, 12, since=1.0), status(1, 20, since=3.0, frame=1004)]
    group = SimpleNamespace(group_id="g", label="shot", done=1, total=4, failed=0, fraction=0.25, eta_s=12.0)
    printer(GroupUpdated(group))
    assert out.getvalue().endswith("shot | frame 1003 var01 on gpu2: KSampler 12/30")
    live.stop()
    assert board.watching == 0


@pytest.mark.integration
def test_render_prints_node_lines_when_piped_and_json_stays_unchanged(
        sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from nuke_comfyui.cli import live_lines
    from nuke_comfyui.cli.main import main

    monkeypatch.setattr(live_lines, "TICK_S", 0.05)
    monkeypatch.setattr(live_lines, "INTERVAL_S", 0.2)
    cluster = sim_cluster(2, seconds_per_step=0.05, previews="latent2rgb")
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": f"gpu{i}", "url": url} for i, url in enumerate(cluster.urls)]}))
    flow = json.loads((Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json").read_text())
    for node in flow.values():
        if "steps" in node["inputs"]:
            node["inputs"]["steps"] = 12
    workflow = tmp_path / "flow.json"
    workflow.write_text(json.dumps(flow))
    base = ["render", str(workflow), "--variations", "2", "--base-seed", "4", "--config", str(config)]
    assert main([*base, "--output", str(tmp_path / "a"), "--journal", str(tmp_path / "a.sqlite3")]) == 0
    err = capsys.readouterr().err.splitlines()
    live = [line for line in err if re.fullmatch(r"var0[12] on gpu[01]: \S+ \d+/12", line)]
    assert live, err
    assert main([*base, "--output", str(tmp_path / "b"), "--journal", str(tmp_path / "b.sqlite3"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["state"] == "completed"
    assert not [line for line in captured.err.splitlines() if " on gpu" in line and "/12" in line]
    # the CLI can never show a preview: each of its prompts asked its server for none
    import requests

    asked = [entry["prompt"][3].get("preview_method") for url in cluster.urls
             for entry in requests.get(f"{url}/history", timeout=5).json().values()]
    assert asked == ["none"] * 4
