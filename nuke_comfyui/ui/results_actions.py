"""The Job Results panel's action bar: Keep All, Keep Selected, Retry Failed and Cancel.

The buttons' enabled state, text and tooltips follow the shown group's counts per state
(results_state.GroupState), so each job event costs O(1) here however many children the group
has. The panel owns what the buttons do; this bar only says what each would do right now.
"""

from __future__ import annotations

from typing import Optional

from nuke_comfyui.ui.qt import QtWidgets
from nuke_comfyui.ui.results_state import GroupState


class ResultsActions(QtWidgets.QWidget):
    """Four buttons in a row: the two Keeps on the left, Retry Failed and Cancel on the right."""

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        self.keep_all_button = QtWidgets.QPushButton("Keep All")
        self.keep_all_button.setToolTip("Bring every finished sequence of this group into the script")
        self.keep_selected_button = QtWidgets.QPushButton("Keep Selected")
        self.keep_selected_button.setToolTip("Bring the sequences of the selected variations into the script")
        self.retry_button = QtWidgets.QPushButton("Retry Failed")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.keep_all_button)
        row.addWidget(self.keep_selected_button)
        row.addStretch(1)
        row.addWidget(self.retry_button)
        row.addWidget(self.cancel_button)

    def update_for(self, state: Optional[GroupState], group_id: Optional[str], has_selection: bool) -> None:
        """Enable and word the buttons for the group shown (None: no group yet)."""
        halted = state is not None and getattr(state.summary, "halted", None)
        self.retry_button.setEnabled(state is not None and (state.has("failed", "timeout") or bool(halted)))
        self.retry_button.setToolTip("Write the job journal again and send the rest of this group" if halted else
                                     "Render the failed jobs of this group again, with the same seeds")
        self._label_cancel(state, group_id)
        self.keep_all_button.setEnabled(state is not None and state.has("completed"))
        self.keep_selected_button.setEnabled(has_selection)

    def _label_cancel(self, state: Optional[GroupState], group_id: Optional[str]) -> None:
        """Cancel says what it stops: the group's unfinished jobs, counted (finished frames stay)."""
        left = state.unfinished_count() if state is not None else 0
        self.cancel_button.setEnabled(left > 0)
        self.cancel_button.setText(f"Cancel {left} unfinished job{'s' if left != 1 else ''}" if left else "Cancel")
        label = getattr(state.summary, "label", "") if state is not None and state.summary is not None else ""
        group = f"{label} ({group_id[:8]})" if label and group_id else (group_id or "")[:8]
        self.cancel_button.setToolTip(
            f"Stop group {group} on every server: its queued jobs are dropped and its running ones interrupted "
            "by prompt id; finished frames stay" if left else "Nothing left to cancel in this group")
