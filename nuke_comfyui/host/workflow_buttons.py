"""The Workflow tab's buttons (Reload, Reset to workflow values, Use): what their commands call.

The buttons are knobs the tab adds to the node, and their command text is saved with the script,
so it names this module and a function: `import nuke_comfyui.host.workflow_buttons as buttons;
buttons.reload_this_node()`. Keeping them here (not in workflow_tab, which only builds and reads
the knobs) means the tab never imports the module that chooses workflows (host.workflow_events).
A press runs inside the gizmo, with the node as nuke.thisNode().
"""

from __future__ import annotations

import nuke

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.host import knobs, workflow_events, workflow_tab


def reload_this_node() -> None:
    """Reload: rebuild and validate with the farm's cached /object_info (never raises)."""
    workflow_events.choose_workflow(nuke.thisNode())


def reset_this_node() -> None:
    """Reset to workflow values: every input knob back to the file's value (a problem goes on the status line)."""
    node = nuke.thisNode()
    try:
        workflow_tab.reset(node)
    except (NukeComfyError, OSError, ValueError) as exc:
        knobs.show_status(node, f"workflow: not reset: {exc}")


def use_pick_this_node() -> None:
    """Use, beside the studio pick list (choosing in the list does the same through knobChanged)."""
    workflow_events.choose_workflow(nuke.thisNode(), from_pick=True)
