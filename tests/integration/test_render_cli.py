"""The `render`, `groups`, `retry`, `resume` and `cancel` commands, and the progress display."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from nuke_comfyui.cli import groups_cmd
from nuke_comfyui.cli.progress import ProgressPrinter, exit_code, print_summary
from nuke_comfyui.cli.summary import combined_exit_code
from nuke_comfyui.core.journal import GroupRow, JobRow, Journal
from nuke_comfyui.core.scheduler import (
    GroupProgress,
    GroupSnapshot,
    GroupState,
    GroupUpdated,
    JobSnapshot,
    JobState,
    JobUpdated,
)


def _job(state: JobState, frame: int = 1, error: str = "") -> JobSnapshot:
    return JobSnapshot(job_id="g.0", group_id="g", index=0, frame=frame, variation=0, seed=5, state=state,
                       server="sim0", prompt_id="p", attempts=1, progress=1.0, outputs=["/o/x.0001.png"],
                       error=error or None, depends_on=[])


def test_exit_codes() -> None:
    assert exit_code(GroupState.COMPLETED) == 0
    assert exit_code(GroupState.PARTIAL) == 2
    assert exit_code(GroupState.FAILED) == 1 and exit_code(GroupState.CANCELLED) == 1

    def snap(state: GroupState, done: int, total: int = 4) -> GroupSnapshot:
        return GroupSnapshot(group_id="g", label="x", state=state, output_dir="/o", jobs=[], done=done,
                             failed=0, total=total, fraction=1.0, eta_s=0.0, sequences=[])

    assert exit_code(snap(GroupState.COMPLETED, 4)) == 0
    assert exit_code(snap(GroupState.CANCELLED, 2)) == 2  # cancelled with finished frames: some rendered
    assert exit_code(snap(GroupState.CANCELLED, 0)) == 1
    assert exit_code(snap(GroupState.PARTIAL, 3)) == 2 and exit_code(snap(GroupState.FAILED, 0)) == 1
    assert combined_exit_code([0, 0]) == 0 and combined_exit_code([1, 1]) == 1
    assert combined_exit_code([0, 1]) == 2 and combined_exit_code([2, 0]) == 2


def test_progress_bar_on_a_tty_and_lines_otherwise() -> None:
    tty = io.StringIO()
    bar = ProgressPrinter("g", stream=tty, tty=True)
    bar(GroupUpdated(GroupProgress("g", "shot", GroupState.RUNNING, 1, 0, 4, 0.25, 9.0)))
    bar(GroupUpdated(GroupProgress("other", "x", GroupState.RUNNING, 1, 0, 4, 0.25, 9.0)))
    assert tty.getvalue().count("\r") == 1  # another group's progress draws nothing
    bar.finish([GroupProgress("g", "shot", GroupState.COMPLETED, 4, 0, 4, 1.0, 0.0)])
    assert "1/4" in tty.getvalue() and "25.0%" in tty.getvalue() and "00:09" in tty.getvalue()
    assert tty.getvalue().endswith("4/4 100.0% ETA 00:00  shot\n")  # the bar ends on the final count
    assert " x" not in tty.getvalue()

    plain = io.StringIO()
    lines = ProgressPrinter("g", stream=plain, tty=False)
    lines(JobUpdated(_job(JobState.RUNNING)))
    lines(JobUpdated(_job(JobState.COMPLETED, 1001)))
    lines(JobUpdated(_job(JobState.FAILED, 1002, "node 6 (KSampler) raised RuntimeError")))
    text = plain.getvalue().splitlines()
    assert text == ["frame 1001 var01 completed on sim0",
                    "frame 1002 var01 failed on sim0: node 6 (KSampler) raised RuntimeError"]


def test_json_summary_shape() -> None:
    snap = GroupSnapshot(group_id="g" * 32, label="shot", state=GroupState.PARTIAL, output_dir="/o",
                         jobs=[_job(JobState.COMPLETED), _job(JobState.FAILED, 2, "boom")], done=1, failed=1,
                         total=2, fraction=1.0, eta_s=0.0, sequences=[])
    out = io.StringIO()
    print_summary(snap, as_json=True, out=out)
    data = json.loads(out.getvalue())
    assert data["group_id"] == "g" * 32 and data["state"] == "partial"
    wanted = {"frame", "variation", "seed", "server", "state", "attempts", "outputs", "error"}
    assert set(data["jobs"][0]) >= wanted
    human = io.StringIO()
    print_summary(snap, as_json=False, out=human)
    assert "nuke-comfyui retry gggggggg" in human.getvalue() and "boom" in human.getvalue()


def test_groups_lists_the_journal(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        journal.create_group(GroupRow("a" * 32, "shot", "{}", "/o", "partial"),
                             [JobRow(f"{'a' * 32}.{i}", "a" * 32, i, i, 0, i, s)
                              for i, s in enumerate(["completed", "failed", "completed"])])
    args = type("Args", (), {"journal": str(path), "limit": 5, "json": True})()
    assert groups_cmd.run(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["completed"] == 2 and rows[0]["failed"] == 1 and rows[0]["total"] == 3
    args.json = False
    groups_cmd.run(args)
    assert "aaaaaaaa" in capsys.readouterr().out


@pytest.mark.integration
def test_render_command_json_and_exit_code(sim_cluster, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from PIL import Image

    from nuke_comfyui.cli.main import main

    cluster = sim_cluster(2)
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": f"sim{i}", "url": url} for i, url in enumerate(cluster.urls)]}))
    plates = tmp_path / "plates"
    plates.mkdir()
    for f in range(1, 4):
        Image.new("RGB", (16, 16), (f * 40, 0, 0)).save(plates / f"plate.{f:04d}.png")
    workflow = Path(__file__).resolve().parents[2] / "examples" / "img2img.json"
    journal = tmp_path / "journal.sqlite3"
    argv = ["render", str(workflow), "--output", str(tmp_path / "out"), "--input", str(plates / "plate.####.png"),
            "--frames", "1-3", "--variations", "2", "--base-seed", "5", "--config", str(config),
            "--journal", str(journal), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["state"] == "completed" and len(summary["jobs"]) == 6
    assert {j["frame"] for j in summary["jobs"]} == {1, 2, 3}
    assert all(Path(j["outputs"][0]).is_file() for j in summary["jobs"])

    assert main(["groups", "--journal", str(journal), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["group_id"] == summary["group_id"] and rows[0]["completed"] == 6

    # retry of a fully completed group re-runs nothing and still exits 0
    assert main(["retry", summary["group_id"][:8], "--config", str(config), "--journal", str(journal),
                 "--json"]) == 0
    assert sum(s.prompt_count for s in cluster.servers) == 6


@pytest.mark.integration
def test_the_summary_names_a_seed_only_for_workflows_that_have_one(sim_cluster, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    """An invert has no seed input: its summary line said "var01 seed 0", a seed nobody set and that
    changes nothing. Now only a seeded workflow's line names its seed."""
    from PIL import Image

    from nuke_comfyui.cli.main import main

    cluster = sim_cluster(1)
    config = tmp_path / "servers.json"
    config.write_text(json.dumps({"servers": [{"name": "sim0", "url": cluster.urls[0]}]}))
    plates = tmp_path / "plates"
    plates.mkdir()
    Image.new("RGB", (16, 16), (40, 0, 0)).save(plates / "plate.0001.png")
    examples = Path(__file__).resolve().parents[2] / "examples"
    lines = {}
    for name in ("invert", "img2img"):
        argv = ["render", str(examples / f"{name}.json"), "--output", str(tmp_path / name), "--input",
                str(plates / "plate.####.png"), "--frames", "1", "--base-seed", "5", "--config", str(config),
                "--journal", str(tmp_path / "journal.sqlite3")]
        assert main(argv) == 0
        lines[name] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  var01")]
    assert len(lines["invert"]) == 1 and lines["invert"][0].startswith(f"  var01: {tmp_path}")
    assert len(lines["img2img"]) == 1 and re.match(r"  var01 seed \d+: ", lines["img2img"][0])
