"""Server Status "Our jobs": which of our prompts each shared server holds, read off the GUI thread."""

from __future__ import annotations

import threading
from typing import Any, Dict, List

import pytest

from nuke_comfyui.core.scheduler.server_prompts import OurPrompt
from tests.ui.conftest import wait_until
from tests.ui.fakes import FakePool, FakeStatus

pytestmark = pytest.mark.qt


def prompt(job: int, running: bool, server: str = "gpu-a", frame: Any = 1001) -> OurPrompt:
    return OurPrompt(server, f"g.{job}", "g", "harbour", frame, job, f"p{job}", running)


class LiveStatus:
    def __init__(self, job_id: str, text: str) -> None:
        self.job_id, self.text = job_id, text


class Board:
    def __init__(self) -> None:
        self.now: List[Any] = []

    def statuses(self, group_id: Any = None) -> List[Any]:
        return list(self.now)


class Scheduler:
    """What the status panel reads: prompts_by_server() and the live board."""

    def __init__(self) -> None:
        self.live = Board()
        self.held: Dict[str, List[OurPrompt]] = {}
        self.threads: List[threading.Thread] = []

    def prompts_by_server(self) -> Dict[str, List[OurPrompt]]:
        self.threads.append(threading.current_thread())
        return dict(self.held)


def test_the_cell_names_the_running_prompt_its_node_and_how_many_wait() -> None:
    from nuke_comfyui.ui.our_prompts import describe_ours

    live = {"g.2": "KSampler 12/30"}
    assert describe_ours([prompt(2, True), prompt(3, False), prompt(4, False, frame=None)], live) == (
        "harbour var03 · f1001: KSampler 12/30 (+2 waiting)",
        "harbour var03 · f1001: KSampler 12/30 (running)\nharbour var04 · f1001 (waiting)\nharbour var05 (waiting)")
    assert describe_ours([prompt(0, False)], {})[0] == "1 waiting"
    assert describe_ours([], {}) == ("", "")


def test_the_status_panel_shows_our_jobs_per_server(qtbot: Any) -> None:
    from nuke_comfyui.ui.qt import QtCore
    from nuke_comfyui.ui.status_model import COL_OURS
    from nuke_comfyui.ui.status_panel import ServerStatusPanel

    pool = FakePool([FakeStatus("gpu-a", "http://127.0.0.1:8188", "online"),
                     FakeStatus("gpu-b", "http://127.0.0.1:8189", "busy", queue_running=1, queue_pending=3)])
    scheduler = Scheduler()
    scheduler.held = {"gpu-a": [prompt(0, True)]}
    scheduler.live.now = [LiveStatus("g.0", "VAE Decode")]
    panel = ServerStatusPanel(pool, interval=0.1, scheduler=scheduler)
    qtbot.addWidget(panel)
    # statuses and our prompts are two reads on worker threads: either may land first
    wait_until(lambda: panel.model.ours("gpu-a") == "harbour var01 · f1001: VAE Decode"
               and panel.model.rowCount() == 2)
    rows = {panel.model.status_at(r).name: r for r in range(panel.model.rowCount())}
    assert panel.model.index(rows["gpu-b"], COL_OURS).data() == "-"  # busy with other artists' work only
    tooltip = panel.model.index(rows["gpu-a"], COL_OURS).data(QtCore.Qt.ItemDataRole.ToolTipRole)
    assert tooltip == "harbour var01 · f1001: VAE Decode (running)"
    scheduler.held = {}
    wait_until(lambda: panel.model.ours("gpu-a") == "")
    assert all(t is not threading.main_thread() for t in scheduler.threads)
    panel.shutdown()
