"""The journal's disk fills during a render (issue 28, item 2): stop, say so once, resume finishes.

The disk is filled for real as sqlite sees it: `PRAGMA max_page_count` on the render's own journal
connection makes every write that needs a new page fail with SQLITE_FULL ("database or disk is
full"), exactly the error a full disk gives, once the group is journaled. Before: every dispatch
pass logged a traceback, the jobs placed in the failing pass were never sent nor given back, and
the render never ended. Now: no new work, what ran is collected, one line naming the journal's
folder and the fix, exit 1; `resume` (with space again) renders the rest, nothing twice.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from hostile import farm_config, run_bounded

from nuke_comfyui.core.scheduler import Scheduler

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VARIATIONS = 40


def _fill_the_disk_after_submit(monkeypatch: pytest.MonkeyPatch) -> None:
    submit_plan = Scheduler.submit_plan

    def submit_then_fill(self: Scheduler, *args: Any, **kwargs: Any) -> str:
        group_id = submit_plan(self, *args, **kwargs)
        db = self.journal._conn()
        with self.journal._lock:
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {pages + 1}")
        return group_id

    monkeypatch.setattr(Scheduler, "submit_plan", submit_then_fill)


def test_a_full_journal_stops_the_render_with_one_message_and_resume_finishes_it(
        sim_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = sim_cluster(2, seconds_per_step=0.002)
    journal = tmp_path / "data" / "journal.sqlite3"
    common = ["--config", str(farm_config(tmp_path, cluster.urls)), "--journal", str(journal)]
    _fill_the_disk_after_submit(monkeypatch)
    with caplog.at_level(logging.WARNING):
        code = run_bounded(["render", str(EXAMPLES / "txt2img_variations.json"), "--output", str(tmp_path / "out"),
                            "--variations", str(VARIATIONS), "--seed-strategy", "sequential", "--base-seed", "1",
                            *common], 60.0)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    match = re.fullmatch(
        rf"nuke-comfyui render: the job journal {re.escape(str(journal))} cannot be written \(database or disk "
        rf"is full\), so no new work was sent; free space in {re.escape(str(journal.parent))} \(or make it "
        r"writable\), then run `nuke-comfyui resume ([0-9a-f]{8})` to finish the render", err[-1])
    assert match, err
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"
    said = [r for r in caplog.records if "cannot be written" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]
    rendered_before = sum(len(server.executions) for server in cluster.servers)
    assert rendered_before < VARIATIONS  # it did stop

    monkeypatch.undo()  # space again
    assert run_bounded(["resume", match.group(1), *common], 60.0) == 0
    assert sum(len(server.executions) for server in cluster.servers) == VARIATIONS  # nothing twice
    files = sorted(p.name for p in (tmp_path / "out").rglob("*.png"))
    assert len(files) == VARIATIONS and len(set(files)) == VARIATIONS
