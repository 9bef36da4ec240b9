"""The job state stored on a Comfy render node, in its hidden `job_state` knob, as JSON.

Saved with the script, it is what lets a reopened (or crashed and restarted) Nuke find the
journaled group again and keep updating the same Read nodes instead of rendering twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Dict, Optional

import nuke

KNOB = "job_state"
log = logging.getLogger(__name__)


@dataclass
class NodeJobState:
    """What the node remembers about its last render."""

    group_id: str = ""
    input_pattern: Optional[str] = None
    output_dir: str = ""
    reads: Dict[str, str] = field(default_factory=dict)   # variation number (as text) -> Read node name
    state: str = ""                                       # last GroupState seen
    reported_failures: Dict[str, str] = field(default_factory=dict)  # job id -> reason already printed

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> NodeJobState:
        """Parse the knob text; empty or damaged text gives an empty state (the node never rendered)."""
        if not text.strip():
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            log.warning("ignoring unreadable job state %r (the node will render afresh)", text[:80])
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def load(node: nuke.Node) -> NodeJobState:
    return NodeJobState.from_json(str(node[KNOB].value()))


def save(node: nuke.Node, state: NodeJobState) -> None:
    node[KNOB].setValue(state.to_json())
