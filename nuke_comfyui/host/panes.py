"""Dockable panes for Nuke: the Qt panels wired to this Nuke session's farm.

`nukescripts.panels.registerWidgetAsPanel` builds a pane from a class path with no arguments,
while the panels take the pool, the scheduler or the loaded config. These wrappers supply them
from the session, and give the Job Results panel its "Keep" hook: Read nodes through host.
Qt is imported only when this module is, i.e. when a pane first opens.

A docked pane is never closed with closeEvent: its tab is hidden, shown again, or closed and the
widget destroyed. The Server Status and Job Results panes follow that (ui/pane_life): hidden, they
stop listening to the pool and the scheduler; shown, they listen again (one subscriber per pane);
destroyed, they unsubscribe without touching the dying widget. The Settings pane opens even when
the settings file is broken, since it is where a TD fixes it (ui/broken_settings).
"""

from __future__ import annotations

from typing import Any, List, Optional

import nuke

from nuke_comfyui.host import job_state, knobs
from nuke_comfyui.host.read_nodes import sync_reads
from nuke_comfyui.host.session import get_session, running_session
from nuke_comfyui.host.workflow_facts import output_titles
from nuke_comfyui.ui.qt import QtWidgets


def _wrap(pane: QtWidgets.QWidget, panel: QtWidgets.QWidget) -> None:
    layout = QtWidgets.QVBoxLayout(pane)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(panel)


def keep_as_reads(group_id: str, sequences: List[Any]) -> None:
    """Job Results "Keep": Read nodes beside the ComfyRender node that rendered the group (GUI thread)."""
    for node in knobs.all_comfy_nodes():
        state = job_state.load(node)
        if state.group_id == group_id:
            titles = output_titles(knobs.raw_text(node, knobs.WORKFLOW))
            state.reads = sync_reads(node, sequences, state.reads, titles)
            job_state.save(node, state)
            return
    nuke.message(f"No ComfyRender node in this script rendered group {group_id[:8]}; "
                 "open the script that did, or read the files from the output folder.")


def _live(pane: QtWidgets.QWidget, panel: Any) -> None:
    """The panel listens only while its pane is shown, and stops for good when the pane is destroyed."""
    from nuke_comfyui.ui.pane_life import follow_visibility

    follow_visibility(pane, panel.resume, panel.shutdown, [panel.subscription])


class ServerStatusPane(QtWidgets.QWidget):
    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        from nuke_comfyui.ui.status_panel import ServerStatusPanel

        farm = get_session().farm
        self.panel = ServerStatusPanel(farm.pool, scheduler=farm.scheduler)
        _wrap(self, self.panel)
        _live(self, self.panel)


class JobResultsPane(QtWidgets.QWidget):
    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        from nuke_comfyui.ui.results_panel import JobResultsPanel

        session = get_session()
        self.panel = JobResultsPanel(session.farm.scheduler, on_keep=keep_as_reads)
        _wrap(self, self.panel)
        _live(self, self.panel)
        for node in knobs.all_comfy_nodes():  # show the groups of this script's nodes
            group_id = job_state.load(node).group_id
            if group_id:
                self.panel.watch(group_id)


class SettingsPane(QtWidgets.QWidget):
    """The Settings panel; when the settings do not load, the broken file with its error to fix first."""

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        from nuke_comfyui.core.config_loader import default_config_path, load_config
        from nuke_comfyui.core.errors import ConfigError

        self.panel: Optional[QtWidgets.QWidget] = None
        self.broken: Optional[QtWidgets.QWidget] = None
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        session = running_session()
        try:  # the running farm's settings, else read as Nuke would (opening Settings starts no farm)
            loaded = session.loaded if session is not None and session.loaded is not None else load_config()
        except ConfigError as exc:
            from nuke_comfyui.ui.broken_settings import BrokenSettingsView

            self.broken = BrokenSettingsView(str(exc), default_config_path(), load_config)
            self.broken.loaded.connect(self._show_panel)
            self._layout.addWidget(self.broken)
            return
        self._show_panel(loaded)

    def _show_panel(self, loaded: Any) -> None:
        from nuke_comfyui.ui.settings_panel import SettingsPanel

        if self.broken is not None:
            self.broken.hide()
            self.broken.deleteLater()
            self.broken = None
        self.panel = SettingsPanel(loaded)
        self._layout.addWidget(self.panel)
