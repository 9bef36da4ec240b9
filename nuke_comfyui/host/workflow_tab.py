"""The "Workflow" tab of a Comfy node: one knob per workflow input, read per frame into the request.

Built when a workflow is chosen (or Reload is pressed): every literal input the sidecar shows
(all of them without one), under a header per node title, typed from the servers' /object_info
(Int/Double with their range, Boolean, Enumeration with the server's options, text multiline
when the spec says so). Seeds stay with the seed strategy knobs. Knob names come from the
input key (`wf_<node>_<input>`) and the key map is kept in a hidden knob, so values, animation
and expressions persist in the saved script; a reload restores the knobs of inputs that still
exist (their saved script text, curves included) and names the ones dropped. Rendering reads
each knob: animated or expression knobs per frame (`valueAt`, `evaluate(frame)` for text with
TCL such as `[frame]`), the others once.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

import nuke

from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core import workflow_sidecar
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.studio_workflows import check_workflow, list_workflows, studio_folder
from nuke_comfyui.core.workflow_inputs import WorkflowInput, list_inputs

TAB = "workflow_tab"
KEYS = "workflow_keys"  # hidden: {knob name: input key}
NOTES = "workflow_notes"
PICK = "wf_studio_pick"  # the studio workflows folder's files (NUKE_COMFYUI_WORKFLOWS)
PREFIX = "wf_"


def knob_name(key: str) -> str:
    return PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", key.replace(".", "__"))


def _make_knob(item: WorkflowInput) -> Any:
    name, label = knob_name(item.key), item.label or item.name
    knob: Any
    if item.kind == "INT":
        knob = nuke.Int_Knob(name, label)
    elif item.kind == "FLOAT":
        knob = nuke.Double_Knob(name, label)
        if item.minimum is not None and item.maximum is not None and item.maximum - item.minimum < 1e6:
            knob.setRange(item.minimum, item.maximum)
    elif item.kind == "BOOLEAN":
        knob = nuke.Boolean_Knob(name, label)
    elif item.kind == "COMBO" and item.options:
        knob = nuke.Enumeration_Knob(name, label, [str(o) for o in item.options])
    elif item.multiline:
        knob = nuke.Multiline_Eval_String_Knob(name, label)
    else:
        knob = nuke.EvalString_Knob(name, label)
    knob.setValue(item.value if item.kind != "COMBO" or item.options else str(item.value))
    return knob


def _keys(node: Any) -> Dict[str, str]:
    knob = node.knobs().get(KEYS)
    try:
        return dict(json.loads(knob.getText())) if knob is not None and knob.getText() else {}
    except ValueError:
        return {}


def build(node: Any, object_info: Optional[Dict[str, Any]] = None) -> List[str]:
    """(Re)build the tab from the node's workflow; returns notes (dropped inputs, fallbacks, sidecar)."""
    path = str(node["workflow_file"].value()).strip()
    workflow = wf.load_workflow(path, object_info or None)
    sidecar = workflow_sidecar.load_sidecar(path)
    view = workflow_sidecar.apply(sidecar, list_inputs(workflow, object_info))
    saved = {key: node[name].toScript() for name, key in _keys(node).items() if name in node.knobs()}
    for name in list(node.knobs()):
        if name.startswith(PREFIX) or name in (TAB, KEYS, NOTES):
            node.removeKnob(node.knobs()[name])
    node.addKnob(nuke.Tab_Knob(TAB, "Workflow"))
    studio = list_workflows(studio_folder())
    if studio:
        chooser = nuke.Enumeration_Knob(PICK, "studio workflow", [os.path.basename(p) for p in studio])
        if os.path.basename(path) in chooser.values():
            chooser.setValue(os.path.basename(path))
        node.addKnob(chooser)
        node.addKnob(nuke.PyScript_Knob(PREFIX + "use_pick", "Use",
                                        "import nuke_comfyui.host.workflow_tab as tab\ntab.use_pick_this_node()"))
    for name, label, function in ((PREFIX + "reload", "Reload", "reload_this_node"),
                                  (PREFIX + "reset", "Reset to workflow values", "reset_this_node")):
        node.addKnob(nuke.PyScript_Knob(name, label, f"import nuke_comfyui.host.workflow_tab as tab\ntab.{function}()"))
    keys: Dict[str, str] = {}
    title = None
    for item in view.inputs:
        if item.is_seed:
            continue
        if item.title != title:
            title = item.title
            node.addKnob(nuke.Text_Knob(PREFIX + "h_" + re.sub(r"[^A-Za-z0-9_]", "_", item.node), title, ""))
        knob = _make_knob(item)
        node.addKnob(knob)
        keys[knob.name()] = item.key
        if item.key in saved:
            knob.fromScript(saved[item.key])
    notes = list(view.problems)
    dropped = sorted(set(saved) - set(keys.values()))
    if dropped:
        notes.append("dropped values of inputs no longer in the workflow: " + ", ".join(dropped))
    if not object_info:
        notes.append("no server answered /object_info: knob types guessed from the workflow's values")
    key_knob = nuke.String_Knob(KEYS, "workflow keys")
    key_knob.setValue(json.dumps(keys, sort_keys=True))
    key_knob.setVisible(False)
    node.addKnob(key_knob)
    node.addKnob(nuke.Text_Knob(NOTES, "", "\n".join(notes)))
    return notes


def reset(node: Any) -> None:
    """"Reset to workflow values": every input knob back to the file's value (animation cleared)."""
    workflow = wf.load_workflow(str(node["workflow_file"].value()).strip())
    by_key = {i.key: i for i in list_inputs(workflow)}
    for name, key in _keys(node).items():
        if name in node.knobs() and key in by_key:
            knob = node[name]
            if hasattr(knob, "clearAnimated"):
                knob.clearAnimated()
            knob.setValue(by_key[key].value)


def _animated(knob: Any) -> bool:
    if hasattr(knob, "isAnimated") and knob.isAnimated():
        return True
    return isinstance(knob, nuke.EvalString_Knob) and "[" in knob.getText()


def _at(knob: Any, frame: Optional[int]) -> Any:
    if isinstance(knob, nuke.EvalString_Knob):
        return knob.evaluate(frame) if frame is not None else knob.value()
    if hasattr(knob, "valueAt") and frame is not None:
        return knob.valueAt(frame)
    return knob.value()


def _typed(knob: Any, value: Any) -> Any:
    if isinstance(knob, nuke.Int_Knob):
        return int(value)
    if isinstance(knob, nuke.Double_Knob):
        return float(value)
    if isinstance(knob, nuke.Boolean_Knob):
        return bool(value)
    return value


def read_values(node: Any, frames: Sequence[int]) -> Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]:
    """(static values, per-frame values) of the tab's knobs for the request; animated knobs per frame."""
    static: Dict[str, Any] = {}
    per_frame: Dict[str, Dict[str, Any]] = {}
    for name, key in _keys(node).items():
        if name not in node.knobs():
            continue
        knob = node[name]
        if _animated(knob) and frames:
            per_frame[key] = {str(f): _typed(knob, _at(knob, f)) for f in frames}
        else:
            static[key] = _typed(knob, _at(knob, None))
    return static, per_frame


def reload_this_node() -> None:
    """The Reload button: rebuild with the farm's cached /object_info; problems go on the node."""
    from nuke_comfyui.core.errors import NukeComfyError
    from nuke_comfyui.host.session import get_session

    node = nuke.thisNode()
    try:
        build(node, get_session().farm.pool.object_info())
    except NukeComfyError as exc:
        node[knobs_status()].setValue(f"workflow: {exc}")


def reset_this_node() -> None:
    reset(nuke.thisNode())


def knobs_status() -> str:
    from nuke_comfyui.host.knobs import STATUS

    return STATUS


def pick(node: Any, per_server: Dict[str, Any]) -> List[str]:
    """Use the studio workflow chosen in the pick list: set the file, validate it, rebuild the tab."""
    from nuke_comfyui.core.object_info import merge

    chosen = str(node[PICK].value())
    path = next(p for p in list_workflows(studio_folder()) if os.path.basename(p) == chosen)
    if path != str(node["workflow_file"].value()).strip() and KEYS in node.knobs():
        node.removeKnob(node[KEYS])  # another workflow: its values start from its own file
    node["workflow_file"].setValue(path)
    problems = check_workflow(path, per_server)
    try:
        notes = build(node, merge(per_server))
    except WorkflowError:
        notes = []  # check_workflow already names why it does not load
    notes = problems + [n for n in notes if n not in problems]
    if NOTES in node.knobs():
        node[NOTES].setValue("\n".join(notes))
    return notes


def use_pick_this_node() -> None:
    from nuke_comfyui.host.session import get_session

    node = nuke.thisNode()
    notes = pick(node, get_session().farm.pool.object_infos())
    node[knobs_status()].setValue("workflow ok" if not notes else f"workflow: {notes[0]}")
