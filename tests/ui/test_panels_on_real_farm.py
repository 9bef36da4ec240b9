"""Panels on the real pool and scheduler against simulated servers (both Qt bindings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.core.render_request import RenderRequest
from tests.ui.conftest import wait_until

pytestmark = [pytest.mark.qt, pytest.mark.integration]
WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "txt2img_variations.json"


def farm_on(cluster: Any, tmp_path: Path, **cluster_options: Any) -> Farm:
    servers = [ServerConfig(name=f"gpu{i}", port=port) for i, port in enumerate(cluster.ports)]
    config = ClusterConfig(servers=servers, poll_interval=0.1, **cluster_options)
    return Farm.from_config(config, journal_path=tmp_path / "journal.sqlite").start()


def states(panel: Any) -> list:
    return sorted(str(getattr(job.state, "value", job.state)) for job in panel.jobs())


def test_results_follow_a_real_render_to_completion(qtbot: Any, sim_cluster: Any, tmp_path: Path) -> None:
    from nuke_comfyui.ui.results_panel import JobResultsPanel

    farm = farm_on(sim_cluster(2), tmp_path)
    try:
        panel = JobResultsPanel(farm.scheduler)
        qtbot.addWidget(panel)
        group_id = farm.scheduler.submit(RenderRequest(workflow_path=str(WORKFLOW), output_dir=str(tmp_path / "out"),
                                                       variations=4, label="real"))
        panel.watch(group_id)
        wait_until(lambda: states(panel) == ["completed"] * 4, 20)
        assert panel.current_group() == group_id
    finally:
        panel.shutdown()
        farm.stop()


def test_failures_show_their_reason_and_retry_reaches_the_scheduler(qtbot: Any, sim_cluster: Any,
                                                                    tmp_path: Path) -> None:
    from nuke_comfyui.ui.results_panel import JobResultsPanel

    farm = farm_on(sim_cluster(1, fail_rate=1.0), tmp_path, retries=0)
    try:
        panel = JobResultsPanel(farm.scheduler)
        qtbot.addWidget(panel)
        group_id = farm.scheduler.submit(RenderRequest(workflow_path=str(WORKFLOW), output_dir=str(tmp_path / "out"),
                                                       variations=2, label="failing"))
        panel.watch(group_id)
        wait_until(lambda: states(panel) == ["failed", "failed"], 20)
        assert all(job.error for job in panel.jobs())
        attempts_before = [job.attempts for job in farm.scheduler.snapshot(group_id).jobs]
        panel.retry_failed()
        wait_until(lambda: [j.attempts for j in farm.scheduler.snapshot(group_id).jobs] != attempts_before, 20)
    finally:
        panel.shutdown()
        farm.stop()


def test_status_panel_on_a_real_pool_toggles_and_shows_a_crash(qtbot: Any, sim_cluster: Any) -> None:
    from nuke_comfyui.core.pool import ServerPool, ServerState
    from nuke_comfyui.ui.status_panel import ServerStatusPanel

    cluster = sim_cluster(2)
    servers = [ServerConfig(name=f"gpu{i}", port=port) for i, port in enumerate(cluster.ports)]
    pool = ServerPool(ClusterConfig(servers=servers, poll_interval=0.1)).start()
    panel = ServerStatusPanel(pool, interval=0.1)
    qtbot.addWidget(panel)
    try:
        def shown() -> dict:
            model = panel.model
            return {model.status_at(i).name: model.status_at(i) for i in range(model.rowCount())}

        wait_until(lambda: [s.state for s in shown().values()] == [ServerState.ONLINE] * 2)
        panel.set_server_enabled("gpu0", False)
        wait_until(lambda: shown()["gpu0"].state is ServerState.DISABLED)
        assert pool.status("gpu0").state is ServerState.DISABLED
        cluster.servers[1].crash()
        wait_until(lambda: shown()["gpu1"].state is ServerState.OFFLINE)
        assert str(cluster.ports[1]) in (shown()["gpu1"].error or "")
    finally:
        panel.shutdown()
        pool.stop()


def test_monitor_window_shows_both_panels_and_closes_cleanly(qtbot: Any, sim_cluster: Any, tmp_path: Path) -> None:
    from nuke_comfyui.ui.monitor_window import MonitorWindow
    from nuke_comfyui.ui.qt import QtWidgets
    from nuke_comfyui.ui.results_panel import JobResultsPanel
    from nuke_comfyui.ui.status_panel import ServerStatusPanel

    farm = farm_on(sim_cluster(1), tmp_path)
    try:
        window = MonitorWindow(farm.pool, farm.scheduler)
        qtbot.addWidget(window)
        window.show()
        assert window.findChildren(ServerStatusPanel) and window.findChildren(JobResultsPanel)
        status = window.findChildren(ServerStatusPanel)[0]
        wait_until(lambda: status.model.rowCount() == 1)
        assert window.close()
        assert not window.isVisible() and isinstance(window, QtWidgets.QMainWindow)
    finally:
        farm.stop()



def test_job_details_show_the_input_values_each_job_was_sent(qtbot: Any, sim_cluster: Any, tmp_path: Path) -> None:
    from nuke_comfyui.ui.qt import QtCore
    from nuke_comfyui.ui.results_panel import JobResultsPanel

    farm = farm_on(sim_cluster(1), tmp_path)
    panel = JobResultsPanel(farm.scheduler)
    qtbot.addWidget(panel)
    try:
        group_id = farm.scheduler.submit(RenderRequest(
            workflow_path=str(WORKFLOW), output_dir=str(tmp_path / "out"), variations=2, base_seed=3,
            values={"6.text": "a quiet harbour", "3.steps": 6}))
        panel.watch(group_id)
        wait_until(lambda: states(panel) == ["completed"] * 2, 20)
        tip = lambda: str(panel.model.index(0, 0).data(QtCore.Qt.ItemDataRole.ToolTipRole))  # noqa: E731
        wait_until(lambda: "6.text = 'a quiet harbour'" in tip(), 10)
        assert "3.steps = 6" in tip()
    finally:
        panel.shutdown()
        farm.stop()


def test_live_previews_and_our_jobs_on_a_real_render(qtbot: Any, sim_cluster: Any, tmp_path: Path) -> None:
    """A running card shows the simulator's preview and node; Server Status names the prompt it runs."""
    import json
    import re

    from nuke_comfyui.ui.results_model import LIVE_ROLE, THUMB_ROLE
    from nuke_comfyui.ui.results_panel import JobResultsPanel
    from nuke_comfyui.ui.status_model import COL_OURS
    from nuke_comfyui.ui.status_panel import ServerStatusPanel

    flow = json.loads(WORKFLOW.read_text())
    for node in flow.values():
        if "steps" in node["inputs"]:
            node["inputs"]["steps"] = 400
    workflow = tmp_path / "slow.json"
    workflow.write_text(json.dumps(flow))
    farm = farm_on(sim_cluster(1, previews="taesd", seconds_per_step=0.02), tmp_path)
    results = JobResultsPanel(farm.scheduler)
    status = ServerStatusPanel(farm.pool, interval=0.1, scheduler=farm.scheduler)
    for panel in (results, status):
        qtbot.addWidget(panel)
        panel.show()
    try:
        group_id = farm.scheduler.submit(RenderRequest(workflow_path=str(workflow), output_dir=str(tmp_path / "out"),
                                                       variations=2, label="live"))
        results.watch(group_id)
        wait_until(lambda: "running" in states(results), 20)
        running = next(job for job in results.jobs() if str(getattr(job.state, "value", job.state)) == "running")
        index = results.model.index(results.model.row_of(running.job_id), 0)
        wait_until(lambda: index.data(THUMB_ROLE) is not None and "/400" in index.data(LIVE_ROLE), 20)
        pattern = re.compile(r"live var0[12]: KSamplerAdvanced \d+/400")
        wait_until(lambda: pattern.match(status.model.ours("gpu0")) is not None, 20)
        assert pattern.match(status.model.index(0, COL_OURS).data())
        farm.scheduler.cancel(group_id)
    finally:
        status.shutdown()
        results.shutdown()


def test_job_details_show_each_jobs_resolved_dynamic_prompt(qtbot: Any, sim_cluster: Any, tmp_path: Path) -> None:
    """A saved workflow's `{a|b}` text: each job's choice follows its seed, and its details say which."""
    import json

    from nuke_comfyui.core.ui_convert.dynamic_prompts import resolve
    from nuke_comfyui.ui.qt import QtCore
    from nuke_comfyui.ui.results_panel import JobResultsPanel

    saved = json.loads((Path(__file__).resolve().parents[1] / "core/data/ui_img2img_saved.json").read_text())
    next(n for n in saved["nodes"] if n["id"] == 6)["widgets_values"] = ["a {red|green|blue} boat"]
    flow = tmp_path / "saved.json"
    flow.write_text(json.dumps(saved))
    from PIL import Image

    Image.new("RGB", (16, 16), (90, 90, 200)).save(tmp_path / "p.png")
    farm = farm_on(sim_cluster(1), tmp_path)
    panel = JobResultsPanel(farm.scheduler)
    qtbot.addWidget(panel)
    try:
        wait_until(lambda: bool(farm.pool.object_infos()), 10)
        group_id = farm.scheduler.submit(RenderRequest(
            workflow_path=str(flow), output_dir=str(tmp_path / "out"), variations=2, base_seed=3,
            images={"10": str(tmp_path / "p.png")}))
        panel.watch(group_id)
        wait_until(lambda: states(panel) == ["completed"] * 2, 20)
        tip = lambda: str(panel.model.index(0, 0).data(QtCore.Qt.ItemDataRole.ToolTipRole))  # noqa: E731
        job = panel.model.job_at(0)
        wait_until(lambda: "6.text (resolved)" in tip(), 10)
        assert f"6.text (resolved) = {resolve('a {red|green|blue} boat', job.seed, '6.text')!r}" in tip()
    finally:
        panel.shutdown()
        farm.stop()


def test_the_server_status_panel_shows_a_server_that_stalled_on_a_real_render(qtbot: Any, sim_cluster: Any,
                                                                              tmp_path: Path) -> None:
    """sim0 hangs on every prompt (until interrupted); the scheduler moves its prompt elsewhere and the
    panel, listening to the real pool, says `stalled` with the reason (issue 28, item 5)."""
    from nuke_comfyui.core.journal import Journal
    from nuke_comfyui.core.pool import ServerPool
    from nuke_comfyui.core.scheduler import Scheduler
    from nuke_comfyui.ui.status_model import COL_ERROR, COL_STATE
    from nuke_comfyui.ui.status_panel import ServerStatusPanel

    cluster = sim_cluster(2, hang_after=[0, None])
    pool = ServerPool(ClusterConfig(servers=[ServerConfig(name=f"sim{i}", url=url) for i, url in
                                             enumerate(cluster.urls)], poll_interval=0.1, strategy="round-robin"))
    journal = Journal(tmp_path / "journal.sqlite")
    farm = Farm(pool, journal, Scheduler(pool, journal, poll_interval=0.1, stall_min_s=1.0)).start()
    panel = ServerStatusPanel(pool, interval=0.2, scheduler=farm.scheduler)
    qtbot.addWidget(panel)
    try:
        group_id = farm.scheduler.submit(RenderRequest(workflow_path=str(WORKFLOW), output_dir=str(tmp_path / "out"),
                                                       variations=4, label="stall"))
        assert farm.scheduler.wait(group_id, timeout=40).done == 4
        wait_until(lambda: panel.model.index(0, COL_STATE).data() == "stalled", 10)
        assert str(panel.model.index(0, COL_ERROR).data()).startswith("stalled: no progress for ")
        assert panel.model.index(1, COL_STATE).data() in ("online", "busy")
    finally:
        panel.shutdown()
        farm.stop()


def test_job_results_says_a_halted_journal_once_and_retry_sends_the_rest(qtbot: Any, sim_cluster: Any,
                                                                         tmp_path: Path) -> None:
    """The journal's disk fills after submit (`PRAGMA max_page_count`: "database or disk is full"): the
    panel says so once with the fix and offers Retry, which sends the rest once space is back."""
    from nuke_comfyui.ui.results_panel import JobResultsPanel

    farm = farm_on(sim_cluster(2, seconds_per_step=0.002), tmp_path)
    journal = farm.journal
    said: list = []
    try:
        panel = JobResultsPanel(farm.scheduler)
        qtbot.addWidget(panel)
        panel.message_changed.connect(said.append)
        group_id = farm.scheduler.submit(RenderRequest(workflow_path=str(WORKFLOW), output_dir=str(tmp_path / "out"),
                                                       variations=24, seed_strategy="sequential", label="halt"))
        with journal._lock:
            pages = journal._conn().execute("PRAGMA page_count").fetchone()[0]
            journal._conn().execute(f"PRAGMA max_page_count = {pages + 1}")
        panel.watch(group_id)
        wait_until(lambda: farm.scheduler.settled(group_id) and "cannot be written" in panel.message.text(), 30)
        text = panel.message.text()
        assert text == (f"the job journal {journal.path} cannot be written (database or disk is full), so no new "
                        f"work was sent; free space in {journal.path.parent} (or make it writable), then press Retry "
                        "Failed to send the rest")
        assert "halted (journal not writable)" in panel.summary.text()
        assert panel.retry_button.isEnabled()  # nothing failed, but Retry is how the rest goes
        qtbot.wait(500)  # later events say nothing new
        assert [line for line in said if "cannot be written" in line] == [text]

        with journal._lock:
            journal._conn().execute(f"PRAGMA max_page_count = {2**30}")
        panel.retry_failed()
        wait_until(lambda: states(panel) == ["completed"] * 24, 40)
        assert "halted" not in panel.summary.text()
    finally:
        panel.shutdown()
        farm.stop()
