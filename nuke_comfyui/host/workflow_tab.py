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
A hidden `workflow_source` knob records the file the tab was built from and each knob's value
as built (its script text): a rebuild from another file or a changed one keeps only what the
artist changed (edited, animated, expressions) for inputs that still exist, names the dropped
edits, and lets untouched inputs take the new file's values. Render refuses a tab built from
another file than the one on the node (see host.render_check). Choosing a workflow (file
browser, studio list, Reload; see host.workflow_events) validates it against every enabled
server at once (`choose`).
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
from nuke_comfyui.host import dynamic_knobs

TAB = "workflow_tab"
KEYS = "workflow_keys"  # hidden: {knob name: input key}
SOURCE = "workflow_source"  # hidden: {"path": file built from, "baseline": {input key: knob script as built}}
NOTES = "workflow_notes"
PICK = "wf_studio_pick"  # the studio workflows folder's files (settings' workflows_folder / NUKE_COMFYUI_WORKFLOWS)
PREFIX = "wf_"
GUESSED_NOTE = ("no server answered /object_info yet: knob types guessed from the workflow's values "
                "(the tab is rebuilt when a server answers)")


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


def source(node: Any) -> Dict[str, Any]:
    """What the tab was built from: {"path": ..., "baseline": {...}}; {} for no tab or an older script."""
    knob = node.knobs().get(SOURCE)
    try:
        data = json.loads(knob.getText()) if knob is not None and knob.getText() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def workflow_path(node: Any) -> str:
    return str(node["workflow_file"].value()).strip()


def _edits(node: Any) -> Dict[str, str]:
    """Script text of the inputs the artist changed since the build (all of them for an older script)."""
    saved = {key: node[name].toScript() for name, key in _keys(node).items() if name in node.knobs()}
    baseline = source(node).get("baseline")
    if not isinstance(baseline, dict):
        return saved
    return {key: text for key, text in saved.items() if baseline.get(key) != text}


def build(node: Any, object_info: Optional[Dict[str, Any]] = None, folder: Optional[str] = None) -> List[str]:
    """(Re)build the tab from the node's workflow; returns notes (dropped inputs, fallbacks, sidecar).

    `folder` is the studio workflows folder for the pick list (default: the effective setting).
    """
    path = workflow_path(node)
    workflow = dynamic_knobs.with_choices(node, wf.load_workflow(path, object_info or None))
    sidecar = workflow_sidecar.load_sidecar(path)
    view = workflow_sidecar.apply(sidecar, list_inputs(workflow, object_info))
    edits = _edits(node)
    for name in list(node.knobs()):
        if name.startswith(PREFIX) or name in (TAB, KEYS, SOURCE, NOTES):
            node.removeKnob(node.knobs()[name])
    node.addKnob(nuke.Tab_Knob(TAB, "Workflow"))
    studio = list_workflows(folder if folder is not None else studio_folder())
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
    baseline: Dict[str, str] = {}
    notes = list(view.problems)
    shown_node = None
    for item in view.inputs:
        if item.is_seed:
            continue
        if item.node != shown_node:  # a heading per node, with its subgraph path
            shown_node = item.node
            node.addKnob(nuke.Text_Knob(PREFIX + "h_" + re.sub(r"[^A-Za-z0-9_]", "_", item.node),
                                        dynamic_knobs.header(item), ""))
        knob = _make_knob(item)
        node.addKnob(knob)
        keys[knob.name()] = item.key
        baseline[item.key] = knob.toScript()
        if item.key in edits:
            try:
                knob.fromScript(edits[item.key])
            except ValueError:
                notes.append(f"your value {edits[item.key]!r} of {item.key} is not one of its choices now; "
                             "the workflow's value is used")
    dropped = sorted(set(edits) - set(keys.values()))
    if dropped:
        notes.append("dropped your values of inputs no longer in the workflow: " + ", ".join(dropped))
    if not object_info:
        notes.append(GUESSED_NOTE)
    for name, label, text in ((KEYS, "workflow keys", json.dumps(keys, sort_keys=True)),
                              (SOURCE, "workflow source",
                               json.dumps({"path": path, "baseline": baseline,
                                           "dynamic": dynamic_knobs.dynamic_keys(view.inputs)}, sort_keys=True))):
        hidden = nuke.String_Knob(name, label)
        hidden.setValue(text)
        hidden.setVisible(False)
        node.addKnob(hidden)
    node.addKnob(nuke.Text_Knob(NOTES, "", "\n".join(notes)))
    return notes


def reset(node: Any) -> None:
    """"Reset to workflow values": every input knob back to the file's value (animation cleared)."""
    workflow = wf.load_workflow(workflow_path(node))
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
    """The Reload button: rebuild and validate with the farm's cached /object_info (never raises)."""
    from nuke_comfyui.host.workflow_events import choose_workflow

    choose_workflow(nuke.thisNode())


def reset_this_node() -> None:
    reset(nuke.thisNode())


def knobs_status() -> str:
    from nuke_comfyui.host.knobs import STATUS

    return STATUS


def picked_path(node: Any, folder: Optional[str] = None) -> str:
    """The file of the studio workflow chosen in the pick list."""
    chosen = str(node[PICK].value())
    found = [p for p in list_workflows(folder if folder is not None else studio_folder())
             if os.path.basename(p) == chosen]
    if not found:
        raise WorkflowError(f"studio workflow {chosen!r} is no longer in the studio workflows folder; "
                            "press Reload to refresh the list")
    return found[0]


def choose(node: Any, per_server: Dict[str, Any], folder: Optional[str] = None,
           merged: Optional[Dict[str, Any]] = None) -> List[str]:
    """Build the tab for the node's workflow and validate it on every server; notes and status on the node.

    Problems first (the file does not load, a server lacks node classes, a COMBO value a server
    lacks: the knob's value), then the build's notes (dropped values, fallbacks, sidecar).
    `merged`: `object_info.merge(per_server)` when the caller has it already.
    """
    from nuke_comfyui.core.object_info import merge

    path = workflow_path(node)
    try:
        notes = build(node, merge(per_server) if merged is None else merged, folder)
    except WorkflowError:
        notes = []  # check_workflow names why it does not load
    values = read_values(node, [])[0] if source(node).get("path") == path else {}
    problems = check_workflow(path, per_server, values)
    notes = problems + [n for n in notes if n not in problems]
    if NOTES in node.knobs():
        node[NOTES].setValue("\n".join(notes))
    more = f" (+{len(notes) - 1} more on the Workflow tab)" if len(notes) > 1 else ""
    node[knobs_status()].setValue("workflow ok" if not notes else f"workflow: {notes[0]}{more}")
    return notes


def pick(node: Any, per_server: Dict[str, Any], folder: Optional[str] = None) -> List[str]:
    """Use the studio workflow chosen in the pick list: set the file, rebuild the tab, validate it."""
    node["workflow_file"].setValue(picked_path(node, folder))
    return choose(node, per_server, folder)


def use_pick_this_node() -> None:
    """The Use button beside the pick list (choosing in the list does the same through knobChanged)."""
    from nuke_comfyui.host.workflow_events import choose_workflow

    choose_workflow(nuke.thisNode(), from_pick=True)
