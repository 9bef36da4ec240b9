"""Read a Comfy render node's knobs into a plain `RenderRequest` (no nuke object leaves host).

The knob names here are the gizmo's (gizmos/ComfyRender.gizmo); a test parses the gizmo file to
prove every name read here exists there. The input pattern is decided separately by `inputs`,
because it may need to write frames first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional

import nuke

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.host.node_class import NODE_CLASS

if TYPE_CHECKING:
    from nuke_comfyui.core.render_request import RenderRequest

#: hidden knob every Comfy render node carries; a node baked into a Group (Gizmo.makeGroup, studio
#: gizmo-baking tools) has class "Group" but keeps its knobs, so this is how it is still recognised
MARKER = "nuke_comfyui_node"
WORKFLOW = "workflow_file"
FRAME_MODE = "frame_range_mode"
CUSTOM_FRAMES = "custom_frames"
VARIATIONS = "variations"
SEED_STRATEGY = "seed_strategy"
BASE_SEED = "base_seed"
SERVER_STRATEGY = "server_strategy"
SERVERS = "servers"
TRANSFER = "transfer"
OUTPUT_DIR = "output_dir"
STATUS = "status"
STATUS_LABEL = "status_label"  # hidden: the short status the gizmo's label shows in the Node Graph
READ_KNOBS = (WORKFLOW, FRAME_MODE, CUSTOM_FRAMES, VARIATIONS, SEED_STRATEGY, BASE_SEED,
              SERVER_STRATEGY, SERVERS, TRANSFER, OUTPUT_DIR)


class NodeSetupError(NukeComfyError):
    """A Comfy node's knobs cannot make a render (message names node, knob and fix)."""


@dataclass(frozen=True)
class FrameRange:
    """Where the frames come from, as Nuke frame-set text and the first/last it spans."""

    text: str
    first: int
    last: int


def is_comfy(node: nuke.Node) -> bool:
    """A Comfy render node: the gizmo, or a Group baked from it (recognised by its marker knob)."""
    try:
        return node.Class() == NODE_CLASS or node.knob(MARKER) is not None
    except ValueError:  # a node deleted meanwhile
        return False


def all_comfy_nodes() -> List[nuke.Node]:
    """Every Comfy render node in the script, inside groups too: gizmos and Groups baked from them."""
    from nuke_comfyui.host.graph import all_nodes

    return all_nodes(NODE_CLASS) + [node for node in all_nodes("Group") if is_comfy(node)]


def comfy_node(name: str) -> nuke.Node:
    """The Comfy render node with full name `name`, or a NodeSetupError saying what is there instead."""
    from nuke_comfyui.host.graph import find_node

    node = find_node(name)
    if node is None:
        raise NodeSetupError(f"no node named {name!r} in this script; check the name (--nodes or selection; "
                             "a node inside a Group is named Group1.ComfyRender1)")
    if not is_comfy(node):
        raise NodeSetupError(f"{name} is a {node.Class()} node, not a {NODE_CLASS} node")
    return node


def frame_range(node: nuke.Node, override: Optional[str] = None) -> FrameRange:
    """The frames to render: override, else the node's mode (input range, global range, custom)."""
    if override:
        return _parse_range(node, override)
    mode = str(node[FRAME_MODE].value())
    upstream = node.input(0)
    if mode == "custom":
        return _parse_range(node, str(node[CUSTOM_FRAMES].value()))
    if mode == "input range" and upstream is not None:
        first, last = upstream.firstFrame(), upstream.lastFrame()
    else:
        root = nuke.root()
        first, last = root.firstFrame(), root.lastFrame()
    return FrameRange(f"{first}-{last}" if first != last else str(first), first, last)


def _parse_range(node: nuke.Node, text: str) -> FrameRange:
    numbers = frame_numbers(text)
    if not numbers:
        raise NodeSetupError(
            f"{node.name()}: frame set {text!r} has no frames; type e.g. 1001-1100 or 1001-1100x2,1200"
        )
    return FrameRange(text.strip(), min(numbers), max(numbers))


def frame_numbers(text: str) -> List[int]:
    """Frames of a Nuke frame set, through core's parser (it reports bad tokens with the fix)."""
    from nuke_comfyui.core.frames import FrameSet

    return list(FrameSet.parse(text))


def show_status(node: nuke.Node, text: str) -> None:
    """Set the status knob (every line: failures, notes) and the short label the Node Graph shows.

    The label knob is written only when its text changes, so a repeated status is no extra edit.
    """
    from nuke_comfyui.host.report import short_status

    node[STATUS].setValue(text)
    label = node.knobs().get(STATUS_LABEL)
    if isinstance(label, nuke.String_Knob):
        short = short_status(text)
        if label.getText() != short:
            label.setValue(short)


def raw_text(node: nuke.Node, knob: str) -> str:
    """A text knob's stored text, never TCL-evaluated (String_Knob.getText)."""
    found = node[knob]
    return str(found.getText()) if isinstance(found, nuke.String_Knob) else str(found.value())


def evaluated(node: nuke.Node, knob: str) -> str:
    """A text knob's value as Nuke evaluates it ([value root.name], $env(SHOT), ...), with a clear error."""
    try:
        return str(node[knob].value())
    except (RuntimeError, ValueError, SyntaxError) as exc:
        raise NodeSetupError(f"{node.fullName()}: '{knob}' does not evaluate ({exc}); "
                             "fix the TCL in it or escape [ and $ with a backslash") from None


def output_dir(node: nuke.Node) -> str:
    """The output folder knob, or <script folder>/comfyui_renders/<node> when it is empty."""
    value = evaluated(node, OUTPUT_DIR).strip()
    if value:
        return value
    try:
        script = nuke.scriptName()
    except RuntimeError:
        raise NodeSetupError(
            f"{node.name()}: the output folder is empty and the script is unsaved; "
            "save the script or set 'output folder'"
        ) from None
    return os.path.join(os.path.dirname(script), "comfyui_renders", node.fullName().replace(".", "_"))


def server_subset(node: nuke.Node) -> Optional[List[str]]:
    """The 'only servers' knob as a list of names, None when empty (every enabled server)."""
    names = [s.strip() for s in str(node[SERVERS].value()).replace(";", ",").split(",")]
    return [s for s in names if s] or None


def transfer_override(node: nuke.Node) -> Optional[str]:
    """'shared' or 'upload' when the node forces one, None for 'auto' (each server's own setting)."""
    value = str(node[TRANSFER].value())
    return None if value == "auto" else value


def read_request(
    node: nuke.Node, *, input_pattern: Optional[str], frames: Optional[FrameRange]
) -> RenderRequest:
    """The node's knobs as a RenderRequest, with the input pattern and frames already decided."""
    from nuke_comfyui.core.render_request import RenderRequest

    workflow = evaluated(node, WORKFLOW).strip()
    if not workflow:
        raise NodeSetupError(f"{node.name()}: 'workflow file' is empty; pick a workflow in API format")
    variations = int(node[VARIATIONS].value())
    if variations < 1:
        raise NodeSetupError(f"{node.name()}: 'variations' is {variations}; set it to 1 or more")
    return RenderRequest(
        workflow_path=workflow,
        output_dir=output_dir(node),
        input_pattern=input_pattern,
        frames=frames.text if frames is not None else None,
        variations=variations,
        seed_strategy=str(node[SEED_STRATEGY].value()),
        base_seed=int(node[BASE_SEED].value()) or None,  # 0: one variation keeps the workflow seed
        strategy=str(node[SERVER_STRATEGY].value()),
        servers=server_subset(node),
        transfer=transfer_override(node),
        label=f"{node.name()} {os.path.splitext(os.path.basename(workflow))[0]}",
    )
