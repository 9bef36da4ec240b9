"""Job Results panel: watch render groups fill in live, keep what is good, retry or cancel the rest.

Scheduler events arrive on the scheduler's delivery thread; a bridge re-emits them as a Qt signal
so every widget update happens on the GUI thread. `GroupUpdated` only carries counters, so the
children of a group the panel has not seen yet are fetched with `scheduler.snapshot` in a worker.
Retry Failed and Cancel call the scheduler in workers too, and Keep hands the group's output
sequences to the host's `on_keep(group_id, sequences)` hook (Read nodes inside Nuke); standalone,
the panel just lists what would be kept. While the panel is visible, running cards show their
live preview and node (live_cards.py); a hidden panel asks the servers' streams for nothing.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional

from nuke_comfyui.core.variation_names import variation_name
from nuke_comfyui.ui.background import run_in_background
from nuke_comfyui.ui.frame_strip import FrameStrip
from nuke_comfyui.ui.live_cards import LiveCards
from nuke_comfyui.ui.palette import state_value
from nuke_comfyui.ui.pane_life import Subscription
from nuke_comfyui.ui.qt import QtCore, QtGui, QtWidgets, Signal
from nuke_comfyui.ui.results_actions import ResultsActions
from nuke_comfyui.ui.results_model import TILE_HEIGHT, TILE_WIDTH, JobTileDelegate, ResultsModel
from nuke_comfyui.ui.results_state import GroupState as _GroupState
from nuke_comfyui.ui.results_text import HaltNotices, group_summary, sequences_for_variations
from nuke_comfyui.ui.thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)
Qt = QtCore.Qt

KeepHook = Callable[[str, List[Any]], Any]


class _SchedulerBridge(QtCore.QObject):
    """Scheduler callbacks (delivery thread) -> `event` signal (queued onto the GUI thread)."""

    event = Signal(object)


class JobResultsPanel(QtWidgets.QWidget):
    """Live thumbnails per job group, a frame strip, and Keep / Retry Failed / Cancel actions.

    `scheduler` follows the Scheduler contract (subscribe, snapshot, cancel, retry_failed).
    `on_keep(group_id, sequences)` is called on the GUI thread when the artist keeps results.
    """

    group_changed = Signal(str)
    jobs_changed = Signal()
    message_changed = Signal(str)

    def __init__(self, scheduler: Any, on_keep: Optional[KeepHook] = None,
                 parent: Optional[QtWidgets.QWidget] = None, thumbnail_size: int = 128) -> None:
        super().__init__(parent)
        self.setObjectName("JobResultsPanel")
        self.setWindowTitle("ComfyUI Results")
        self._scheduler = scheduler
        self._on_keep = on_keep
        self._groups: Dict[str, _GroupState] = {}
        self._current: Optional[str] = None
        self._halts = HaltNotices()  # a halted journal, said once per halt

        self.model = ResultsModel(self)
        self._requests: Dict[str, Any] = {}
        self.model.values_for = self._job_values
        self.thumbnails = ThumbnailLoader(thumbnail_size, self)
        self.thumbnails.loaded.connect(self._on_thumbnail)
        self._build_widgets()
        self._layout()
        board = getattr(scheduler, "live", None)
        self.live = None if board is None else LiveCards(board, self.model, self.grid, thumbnail_size, self)

        self._bridge = _SchedulerBridge()  # no parent: the subscription keeps it (pane_life.py says why)
        self._bridge.event.connect(self._on_event)
        self.subscription = Subscription(scheduler.subscribe, self._bridge.event.emit, keep=self._bridge)
        self.subscription.start()
        self._update_actions()

    # -- construction ------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.group_combo = QtWidgets.QComboBox()
        self.group_combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.group_combo.currentIndexChanged.connect(self._on_combo_changed)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.summary = QtWidgets.QLabel("No render yet: start one from a Comfy node or the CLI.")
        self.frame_strip = FrameStrip()
        self.frame_strip.setVisible(False)
        self.grid = QtWidgets.QListView()
        self.grid.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.grid.setMovement(QtWidgets.QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setGridSize(QtCore.QSize(TILE_WIDTH + 6, TILE_HEIGHT + 6))
        self.grid.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setModel(self.model)
        self.grid.setItemDelegate(JobTileDelegate(self.grid))
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.actions = ResultsActions()
        self.keep_all_button = self.actions.keep_all_button
        self.keep_all_button.clicked.connect(self.keep_all)
        self.keep_selected_button = self.actions.keep_selected_button
        self.keep_selected_button.clicked.connect(self.keep_selected)
        self.retry_button = self.actions.retry_button
        self.retry_button.clicked.connect(self.retry_failed)
        self.cancel_button = self.actions.cancel_button
        self.cancel_button.clicked.connect(self.cancel)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)

    def _layout(self) -> None:
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Group:"))
        top.addWidget(self.group_combo, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(self.frame_strip)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.actions)
        layout.addWidget(self.message)

    # -- public API --------------------------------------------------------------------------
    def watch(self, group_id: str) -> None:
        """Show a group (e.g. one just submitted): its children are fetched in a worker."""
        self._ensure_group(group_id)
        self._select_group(group_id)

    def current_group(self) -> Optional[str]:
        return self._current

    def group_ids(self) -> List[str]:
        return list(self._groups)

    def jobs(self, group_id: Optional[str] = None) -> List[Any]:
        """Latest known children of a group (default: the one shown)."""
        state = self._groups.get(group_id or self._current or "")
        return [] if state is None else list(state.jobs.values())

    def selected_jobs(self) -> List[Any]:
        rows = self.grid.selectionModel().selectedIndexes()
        return [job for job in (self.model.job_at(index.row()) for index in rows) if job is not None]

    def keep_all(self) -> None:
        self._keep(None)

    def keep_selected(self) -> None:
        variations = {job.variation for job in self.selected_jobs()}
        if not variations:
            self._show("Select one or more tiles first: their variations are kept.")
            return
        self._keep(variations)

    def retry_failed(self) -> None:
        self._scheduler_action("retry_failed", "Retrying failed jobs of")

    def cancel(self) -> None:
        self._scheduler_action("cancel", "Cancelling")

    def shutdown(self) -> None:
        """Stop listening to the scheduler and the live previews (hidden or dropped; ui/pane_life in Nuke)."""
        if self.live is not None:
            self.live.stop()
        self.subscription.stop()

    def resume(self) -> None:
        """Listen again after shutdown and catch up on the watched groups (events missed meanwhile)."""
        if self.subscription.active:
            return
        self.subscription.start()
        for group_id in list(self._groups):
            self._load_snapshot(group_id)
        if self.live is not None:
            self.live.set_visible(True)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self.live is not None and self.subscription.active:
            self.live.set_visible(True)

    def hideEvent(self, event: QtGui.QHideEvent) -> None:
        super().hideEvent(event)
        if self.live is not None:
            self.live.set_visible(False)

    # -- events (GUI thread) -----------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        job = getattr(event, "job", None)
        if job is not None:
            self._on_job(job)
            return
        group = getattr(event, "group", None)
        if group is not None:
            state = self._ensure_group(group.group_id)
            state.summary = group
            self._refresh_combo_text(group.group_id)
            if group.group_id == self._current:
                self._show_summary(group)
            if self._current is None:
                self._select_group(group.group_id)

    def _on_job(self, job: Any) -> None:
        state = self._ensure_group(job.group_id)
        state.put(job)
        if job.group_id != self._current:
            if self._current is None:
                self._select_group(job.group_id)
            return
        if not self.model.update_job(job):
            self._show_jobs(state)
        elif not self.frame_strip.update_job(job):
            self.frame_strip.set_jobs(list(state.jobs.values()))
        self._request_thumbnail(job)
        self._update_actions()
        self.jobs_changed.emit()

    def _ensure_group(self, group_id: str) -> _GroupState:
        state = self._groups.get(group_id)
        if state is None:
            state = _GroupState(group_id)
            self._groups[group_id] = state
            self.group_combo.addItem(group_id[:8], group_id)
            self._load_snapshot(group_id)
        return state

    def _job_values(self, job: Any) -> Dict[str, Any]:
        """The input values a job was sent with, from its group's journaled request ({} until read),
        and its dynamic-prompt texts as resolved for it."""
        from nuke_comfyui.core.ui_convert.dynamic_prompts import for_job

        request = self._requests.get(job.group_id)
        if request is None:
            return {}
        values = request.values_for(job.frame)  # then each {a|b} text as this job's seed resolved it
        values.update({f"{key} (resolved)": text for key, text in for_job(request, job.frame, job.seed).items()})
        return values

    def _read_request(self, group_id: str) -> Any:
        """Worker thread: the group's journaled RenderRequest, or None when there is no journal."""
        from nuke_comfyui.core.render_request import RenderRequest

        journal = getattr(self._scheduler, "journal", None)
        return RenderRequest.from_json(journal.group(group_id).request) if journal is not None else None

    def _on_request(self, group_id: str, request: Any) -> None:
        self._requests[group_id] = request
        state = self._groups.get(group_id)
        if group_id == self._current and state is not None and state.summary is not None:
            self._show_summary(state.summary)  # its pixel notes are known now

    def _load_snapshot(self, group_id: str) -> None:
        run_in_background(
            lambda: self._read_request(group_id),
            lambda request: self._on_request(group_id, request),
            lambda exc: log.debug("no journaled request for %s: %s", group_id, exc),
            owner=self,
        )
        run_in_background(
            lambda: self._scheduler.snapshot(group_id),
            self._on_snapshot,
            lambda exc: self._show(f"Could not read group {group_id[:8]}: {exc}"),
            owner=self,
        )

    def _on_snapshot(self, snapshot: Any) -> None:
        state = self._ensure_group(snapshot.group_id)
        state.loaded = True
        for job in snapshot.jobs:
            # Events that arrived after the snapshot was taken are newer: keep them.
            state.put(job, replace=False)
        if state.summary is None:
            state.summary = snapshot
        self._refresh_combo_text(snapshot.group_id)
        if snapshot.group_id == self._current:
            self._show_jobs(state)

    def _on_combo_changed(self, index: int) -> None:
        group_id = self.group_combo.itemData(index)
        if group_id and group_id != self._current:
            self._current = str(group_id)
            self._show_jobs(self._groups[self._current])
            if self.live is not None:
                self.live.rescan()
            self.group_changed.emit(self._current)

    def _select_group(self, group_id: str) -> None:
        index = self.group_combo.findData(group_id)
        if index >= 0 and index != self.group_combo.currentIndex():
            self.group_combo.setCurrentIndex(index)
        elif index >= 0:
            self._on_combo_changed(index)

    def _show_jobs(self, state: _GroupState) -> None:
        jobs = list(state.jobs.values())
        self.model.set_jobs(jobs)
        self.frame_strip.set_jobs(jobs)
        for job in jobs:
            self._request_thumbnail(job)
        if state.summary is not None:
            self._show_summary(state.summary)
        self._update_actions()
        self.jobs_changed.emit()

    def _show_summary(self, group: Any) -> None:
        """The group's line, and what was lost where in its pixels (all of it in the tooltip)."""
        request = self._requests.get(group.group_id)
        notes = list((getattr(request, "pixels", None) or {}).get("notes") or [])
        more = f" (and {len(notes) - 1} more: hover here)" if len(notes) > 1 else ""
        self.summary.setText(group_summary(group) + (f"\npixels: {notes[0]}{more}" if notes else ""))
        self.summary.setToolTip("\n".join(notes))
        self.progress.setValue(int(1000 * max(0.0, min(1.0, float(group.fraction or 0.0)))))
        self._say_halt(group)

    def _say_halt(self, group: Any) -> None:
        """A halted journal, once per halt (results_text.HaltNotices); Retry is offered meanwhile."""
        change = self._halts.change(group)
        if change is None:
            return
        said, text = change
        if text or self.message.text() == said:
            self._show(text)
        self._update_actions()

    def _refresh_combo_text(self, group_id: str) -> None:
        state = self._groups[group_id]
        index = self.group_combo.findData(group_id)
        if index >= 0 and state.summary is not None:
            label = state.summary.label or group_id[:8]
            self.group_combo.setItemText(index, f"{label} ({group_id[:8]})")

    # -- thumbnails --------------------------------------------------------------------------
    def _request_thumbnail(self, job: Any) -> None:
        if state_value(job.state) == "completed" and job.outputs:
            self.thumbnails.request(job.job_id, str(job.outputs[0]))

    def _on_thumbnail(self, job_id: str, image: QtGui.QImage) -> None:
        self.model.set_thumbnail(job_id, QtGui.QPixmap.fromImage(image))

    # -- actions -----------------------------------------------------------------------------
    def _keep(self, variations: Optional[set]) -> None:
        group_id = self._current
        if group_id is None:
            self._show("No group to keep yet.")
            return
        run_in_background(
            lambda: self._scheduler.snapshot(group_id),
            lambda snap: self._deliver_keep(group_id, sequences_for_variations(snap.sequences, variations)),
            lambda exc: self._show(f"Could not read group {group_id[:8]}: {exc}"),
            owner=self,
        )

    def _deliver_keep(self, group_id: str, sequences: List[Any]) -> None:
        if not sequences:
            self._show("Nothing finished to keep yet.")
            return
        if self._on_keep is None:
            listing = "; ".join(
                f"{variation_name(seq.variation)} {seq.pattern} {seq.first}-{seq.last}" for seq in sequences
            )
            self._show(f"Kept {len(sequences)} sequence(s) (standalone: no Read nodes): {listing}")
            return
        try:
            self._on_keep(group_id, sequences)
        except Exception as exc:  # a host hook failure is shown, never crashes the panel
            log.exception("keep hook failed")
            self._show(f"Could not keep results: {exc}")
            return
        self._show(f"Kept {len(sequences)} sequence(s).")

    def _scheduler_action(self, method: str, verb: str) -> None:
        group_id = self._current
        if group_id is None:
            self._show("No group selected.")
            return
        self._show(f"{verb} {group_id[:8]}...")
        run_in_background(
            lambda: getattr(self._scheduler, method)(group_id),
            lambda _result: self._show(f"{verb} {group_id[:8]}: done."),
            lambda exc: self._show(f"{verb} {group_id[:8]} failed: {exc}"),
            owner=self,
        )

    def _update_actions(self) -> None:
        self.actions.update_for(self._groups.get(self._current or ""), self._current, bool(self.selected_jobs()))

    def _show(self, text: str) -> None:
        self.message.setText(text)
        self.message_changed.emit(text)
