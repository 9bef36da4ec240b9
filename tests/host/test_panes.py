"""The dockable panes Nuke builds from their class path with no arguments, wired to the session's farm."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nuke
import nukescripts
import pytest

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.farm import Farm
from nuke_comfyui.host import job_state
from nuke_comfyui.host.menu_setup import PANELS, register_panels
from nuke_comfyui.host.session import HostSession, set_session

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytestmark = [pytest.mark.integration, pytest.mark.qt]


@pytest.fixture()
def session(sim_cluster: Any, tmp_path: Path) -> Any:
    cluster = sim_cluster(1)
    config = ClusterConfig(servers=[ServerConfig(name="gpu1", port=cluster.ports[0])], poll_interval=0.1)
    farm = Farm.from_config(config, journal_path=tmp_path / "journal.sqlite").start()
    host_session = HostSession(farm)
    set_session(host_session)
    return host_session


def test_every_registered_pane_opens_from_the_pane_menu(qapp: Any, session: Any) -> None:
    """Nuke evaluates the registered string in a bare __main__ (fake follows nukescripts/panels.py)."""
    register_panels()
    registered = nukescripts.panels._fake_registered()
    assert set(registered) == {panel_id for _, _, panel_id in PANELS}
    for title, _, _ in PANELS:
        panel = nuke.menu("Pane").findItem(title)
        assert panel is not None
        panel.invoke()
        widget = nukescripts.panels._opened[-1].widgets[-1]
        assert widget.panel is not None  # the real panel inside, wired to the session
        if hasattr(widget.panel, "shutdown"):
            widget.panel.shutdown()


def test_every_pane_restores_with_a_saved_workspace(qapp: Any, session: Any) -> None:
    """A saved workspace calls restorePanel(id) for each pane id it holds (nukescripts/panels.py)."""
    register_panels()
    for _, _, panel_id in PANELS:
        widget = nukescripts.panels.restorePanel(panel_id).widgets[-1]
        assert type(widget).__module__ == "nuke_comfyui.host.panes"
        if hasattr(widget.panel, "shutdown"):
            widget.panel.shutdown()


def test_keep_in_job_results_makes_read_nodes_beside_the_render_node(qapp: Any, session: Any,
                                                                     tmp_path: Path) -> None:
    from nuke_comfyui.host.panes import keep_as_reads

    node = nuke.createNode("ComfyRender")
    state = job_state.load(node)
    state.group_id = "g123"
    job_state.save(node, state)

    class Seq:
        variation, seed, output_node = 0, 7, "9"
        pattern, first, last = str(tmp_path / "v01" / "x.%04d.png"), 1, 3
        frames_done, servers = [1, 2, 3], ["gpu1"]

    keep_as_reads("g123", [Seq()])
    read = nuke.toNode(f"{node.name()}_var01")
    assert read is not None and read["file"].value() == Seq.pattern
    assert job_state.load(node).reads == {"0": read.name()}
