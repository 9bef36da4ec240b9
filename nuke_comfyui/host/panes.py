"""Dockable panes for Nuke: the Qt panels wired to this Nuke session's farm.

`nukescripts.panels.registerWidgetAsPanel` builds a pane from a class path with no arguments,
while the panels take the pool, the scheduler or the loaded config. These wrappers supply them
from the session, and give the Job Results panel its "Keep" hook: Read nodes through host.
Qt is imported only when this module is, i.e. when a pane first opens.
"""

from __future__ import annotations

from typing import Any, List, Optional

import nuke

from nuke_comfyui.host import job_state, knobs
from nuke_comfyui.host.graph import all_nodes
from nuke_comfyui.host.read_nodes import sync_reads
from nuke_comfyui.host.session import get_session
from nuke_comfyui.host.workflow_facts import output_titles
from nuke_comfyui.ui.qt import QtWidgets


def _wrap(pane: QtWidgets.QWidget, panel: QtWidgets.QWidget) -> None:
    layout = QtWidgets.QVBoxLayout(pane)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(panel)


def keep_as_reads(group_id: str, sequences: List[Any]) -> None:
    """Job Results "Keep": Read nodes beside the ComfyRender node that rendered the group (GUI thread)."""
    for node in all_nodes(knobs.NODE_CLASS):
        state = job_state.load(node)
        if state.group_id == group_id:
            titles = output_titles(knobs.raw_text(node, knobs.WORKFLOW))
            state.reads = sync_reads(node, sequences, state.reads, titles)
            job_state.save(node, state)
            return
    nuke.message(f"No ComfyRender node in this script rendered group {group_id[:8]}; "
                 "open the script that did, or read the files from the output folder.")


class ServerStatusPane(QtWidgets.QWidget):
    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        from nuke_comfyui.ui.status_panel import ServerStatusPanel

        farm = get_session().farm
        self.panel = ServerStatusPanel(farm.pool, scheduler=farm.scheduler)
        _wrap(self, self.panel)


class JobResultsPane(QtWidgets.QWidget):
    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        from nuke_comfyui.ui.results_panel import JobResultsPanel

        session = get_session()
        self.panel = JobResultsPanel(session.farm.scheduler, on_keep=keep_as_reads)
        _wrap(self, self.panel)
        for node in all_nodes(knobs.NODE_CLASS):  # show the groups of this script's nodes
            group_id = job_state.load(node).group_id
            if group_id:
                self.panel.watch(group_id)


class SettingsPane(QtWidgets.QWidget):
    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        from nuke_comfyui.ui.settings_panel import SettingsPanel

        loaded = get_session().loaded
        if loaded is None:  # a session built by hand (pipelines, tests): read the settings as Nuke would
            from nuke_comfyui.core.config_loader import load_config

            loaded = load_config()
        self.panel = SettingsPanel(loaded)
        _wrap(self, self.panel)
