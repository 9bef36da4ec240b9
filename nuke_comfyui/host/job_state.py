"""The job state stored on a Comfy render node, in its hidden `job_state` knob, as JSON.

Saved with the script, it is what lets a reopened (or crashed and restarted) Nuke find the
journaled group again and keep updating the same Read nodes instead of rendering twice.
The knob is a text knob, and Nuke TCL-evaluates a text knob's `value()`: ComfyUI error messages
hold `[`, `$` and Windows backslashes, which evaluation would run or eat. So the state is always
read back raw with `getText()`. Damaged text (hand-edited, truncated) is reported on the node's
status line and in the log, never silently taken as "never rendered".
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Optional

import nuke

from nuke_comfyui.core.errors import NukeComfyError

KNOB = "job_state"
STATUS = "status"
log = logging.getLogger(__name__)


class DamagedJobState(NukeComfyError):
    """The job_state knob holds text that is not a job state."""


@dataclass
class NodeJobState:
    """What the node remembers about its last render."""

    group_id: str = ""
    input_pattern: Optional[str] = None
    output_dir: str = ""
    reads: Dict[str, str] = field(default_factory=dict)   # sequence key -> Read node name (a sibling)
    state: str = ""                                       # last GroupState seen
    reported_failures: Dict[str, str] = field(default_factory=dict)  # job id -> reason already printed
    colours: Dict[str, Any] = field(default_factory=dict)  # how result Reads invert the plate (pixel_plan)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> NodeJobState:
        """Parse the knob text; empty text is a node that never rendered, damaged text raises."""
        if not text.strip():
            return cls()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DamagedJobState(f"unreadable job state ({exc.msg} at character {exc.pos})") from None
        if not isinstance(data, dict) or not isinstance(data.get("group_id", ""), str):
            raise DamagedJobState("the job state is not an object with a group id")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def raw_text(node: nuke.Node) -> str:
    """The knob's text exactly as stored (never TCL-evaluated)."""
    knob = node[KNOB]
    return str(knob.getText()) if isinstance(knob, nuke.String_Knob) else str(knob.value())


def load(node: nuke.Node) -> NodeJobState:
    """The node's state; a damaged one is reported on the node and treated as no render yet."""
    try:
        return NodeJobState.from_json(raw_text(node))
    except DamagedJobState as exc:
        message = (f"{exc}: the old render cannot be re-attached; press Render to start a new one "
                   "(the damaged text stays in the hidden job_state knob until then)")
        log.warning("nuke-comfyui %s: %s", node.fullName(), message)
        if STATUS in node.knobs():
            from nuke_comfyui.host.knobs import show_status

            show_status(node, f"job state damaged: {message}")
        return NodeJobState()


def save(node: nuke.Node, state: NodeJobState) -> None:
    node[KNOB].setValue(state.to_json())
