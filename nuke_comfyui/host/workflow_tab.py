"""The "Workflow" tab of a Comfy node: one knob per workflow input, read per frame into the request.

Built when a workflow is chosen (or Reload is pressed): every literal input the sidecar shows
(all of them without one), under a header per node title, typed from the servers' /object_info
by one builder per input type (host.tab_knobs: Int/Double with their range, Boolean, a pull-down
of the server's options for COMBO, text with its TCL box, wide integers as exact text, JSON).
Seeds stay with the seed strategy knobs. Knob names come from the input key (`wf_<node>__<input>`);
the key map and each input's spec (how its knob reads back) are kept in hidden knobs, so values,
animation and expressions persist in the saved script; a reload restores the knobs of inputs that
still exist (their saved script text, curves included) and names the ones dropped. Rendering
reads each knob: animated or expression knobs per frame (`valueAt`), text verbatim unless its
TCL box is ticked (then evaluated per frame), pull-downs by index into their typed options.
The tab's controls (pick list, Use, Reload, Reset) are made once and kept, so a rebuild never
removes the button or list whose callback started it; a rebuild started from an input knob's own
callback is deferred (host.deferred) until that callback has returned.
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
from nuke_comfyui.core.workflow_inputs import list_inputs
from nuke_comfyui.host import deferred, dynamic_knobs, tab_knobs
from nuke_comfyui.host.knobs import show_status

TAB = "workflow_tab"
KEYS = "workflow_keys"  # hidden: {knob name: input key, or "<key>#<role>" for a companion such as the TCL box}
SOURCE = "workflow_source"  # hidden: {"path": file built from, "baseline": {...}, "specs": {input key: spec}}
NOTES = "workflow_notes"
PICK = "wf_studio_pick"  # the studio workflows folder's files (settings' workflows_folder / NUKE_COMFYUI_WORKFLOWS)
PREFIX = tab_knobs.PREFIX
USE, RELOAD, RESET = PREFIX + "use_pick", PREFIX + "reload", PREFIX + "reset"
BUTTONS = "import nuke_comfyui.host.workflow_buttons as buttons\nbuttons.{}()"
#: the tab's own controls: made once and kept across rebuilds (a button is never removed by its own press)
CONTROLS = (TAB, PICK, USE, RELOAD, RESET)
GUESSED_NOTE = ("no server answered /object_info yet: knob types guessed from the workflow's values "
                "(the tab is rebuilt when a server answers)")
knob_name = tab_knobs.knob_name


def _hidden_json(node: Any, name: str) -> Any:
    knob = node.knobs().get(name)
    try:
        return json.loads(knob.getText()) if knob is not None and knob.getText() else None
    except ValueError:
        return None


def _keys(node: Any) -> Dict[str, str]:
    data = _hidden_json(node, KEYS)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def source(node: Any) -> Dict[str, Any]:
    """What the tab was built from: {"path", "baseline", "specs"}; {} for no tab or an older script."""
    data = _hidden_json(node, SOURCE)
    return data if isinstance(data, dict) else {}


def workflow_path(node: Any) -> str:
    return str(node["workflow_file"].value()).strip()


def _edits(node: Any) -> Dict[str, str]:
    """Script text of the knobs the artist changed since the build (all of them for an older script),
    by input key (companions as "<key>#<role>")."""
    saved = {key: node[name].toScript() for name, key in _keys(node).items() if name in node.knobs()}
    baseline = source(node).get("baseline")
    if not isinstance(baseline, dict):
        return saved
    return {key: text for key, text in saved.items() if baseline.get(key) != text}


def input_knob_names(node: Any) -> List[str]:
    """The knobs a rebuild removes: every Workflow-tab knob but the tab's own controls."""
    return [name for name in node.knobs()
            if (name.startswith(PREFIX) and name not in CONTROLS) or name in (KEYS, SOURCE, NOTES)]


def _ensure_button(node: Any, name: str, label: str, function: str) -> None:
    command = BUTTONS.format(function)
    knob = node.knobs().get(name)
    if knob is None:
        node.addKnob(nuke.PyScript_Knob(name, label, command))
    elif knob.command() != command:  # a script saved by an older version calls another module
        knob.setCommand(command)


def update_buttons(node: Any) -> bool:
    """Point the tab's buttons saved by an older version (they called workflow_tab) at workflow_buttons.

    Run when a script loads, so an old script's Reload works without a rebuild first; True if any changed.
    """
    changed = False
    for name, function in ((RELOAD, "reload_this_node"), (RESET, "reset_this_node"), (USE, "use_pick_this_node")):
        knob = node.knobs().get(name)
        if knob is not None and knob.command() != BUTTONS.format(function):
            knob.setCommand(BUTTONS.format(function))
            changed = True
    return changed


def _ensure_controls(node: Any, path: str, folder: Optional[str]) -> None:
    """The tab, the studio pick list (when the folder has workflows) and the buttons; made once, updated."""
    if TAB not in node.knobs():
        node.addKnob(nuke.Tab_Knob(TAB, "Workflow"))
    studio = [os.path.basename(p) for p in list_workflows(folder if folder is not None else studio_folder())]
    pick = node.knobs().get(PICK)
    running = deferred.running_knob(node)
    if studio and pick is None:
        pick = nuke.Enumeration_Knob(PICK, "studio workflow", studio)
        node.addKnob(pick)
    elif studio and pick.values() != studio:
        pick.setValues(studio)
    elif not studio and pick is not None and running not in (PICK, USE):
        node.removeKnob(pick)
        if USE in node.knobs():
            node.removeKnob(node[USE])
    if studio and os.path.basename(path) in studio and pick.value() != os.path.basename(path):
        pick.setValue(os.path.basename(path))
    if studio:
        _ensure_button(node, USE, "Use", "use_pick_this_node")
    _ensure_button(node, RELOAD, "Reload", "reload_this_node")
    _ensure_button(node, RESET, "Reset to workflow values", "reset_this_node")


def build(node: Any, object_info: Optional[Dict[str, Any]] = None, folder: Optional[str] = None) -> List[str]:
    """(Re)build the tab from the node's workflow; returns notes (dropped inputs, fallbacks, sidecar).

    `folder` is the studio workflows folder for the pick list (default: the effective setting).
    Main thread; never from the callback of a knob it removes (host.deferred decides when).
    """
    path = workflow_path(node)
    workflow = dynamic_knobs.with_choices(node, wf.load_workflow(path, object_info or None))
    sidecar = workflow_sidecar.load_sidecar(path)
    view = workflow_sidecar.apply(sidecar, list_inputs(workflow, object_info))
    edits = _edits(node)
    for name in input_knob_names(node):
        node.removeKnob(node.knobs()[name])
    _ensure_controls(node, path, folder)
    keys: Dict[str, str] = {}
    baseline: Dict[str, str] = {}
    specs: Dict[str, Any] = {}
    notes = list(view.problems)
    shown_node = None
    for item in view.inputs:
        if item.is_seed:
            continue
        if item.node != shown_node:  # a heading per node, with its subgraph path
            shown_node = item.node
            node.addKnob(nuke.Text_Knob(PREFIX + "h_" + re.sub(r"[^A-Za-z0-9_]", "_", item.node),
                                        dynamic_knobs.header(item), ""))
        made = tab_knobs.build_knobs(item)
        notes += made.notes
        specs[item.key] = made.spec
        for role, knob in [("", made.value), *sorted(made.companions.items())]:
            key = f"{item.key}#{role}" if role else item.key
            node.addKnob(knob)
            keys[knob.name()] = key
            baseline[key] = knob.toScript()
            if key in edits:
                try:
                    knob.fromScript(edits[key])
                except (ValueError, TypeError, OverflowError):
                    notes.append(f"your value {edits[key]!r} of {key} does not fit the input now; "
                                 "the workflow's value is used")
    dropped = sorted({key.split("#")[0] for key in edits} - {key.split("#")[0] for key in keys.values()})
    if dropped:
        notes.append("dropped your values of inputs no longer in the workflow: " + ", ".join(dropped))
    if not object_info:
        notes.append(GUESSED_NOTE)
    for name, label, text in ((KEYS, "workflow keys", json.dumps(keys, sort_keys=True)),
                              (SOURCE, "workflow source",
                               json.dumps({"path": path, "baseline": baseline, "specs": specs,
                                           "dynamic": dynamic_knobs.dynamic_keys(view.inputs)}, sort_keys=True))):
        hidden = nuke.String_Knob(name, label)
        hidden.setValue(text)
        hidden.setVisible(False)
        node.addKnob(hidden)
    node.addKnob(nuke.Text_Knob(NOTES, "", "\n".join(notes)))
    return notes


def _inputs(node: Any) -> List[Tuple[str, Any, Any, Dict[str, Any]]]:
    """(input key, value knob, TCL box or None, spec) for every input knob on the tab."""
    keys = _keys(node)
    specs = source(node).get("specs")
    specs = specs if isinstance(specs, dict) else {}
    present = node.knobs()
    companions = {key: present.get(name) for name, key in keys.items() if "#" in key}
    found = []
    for name, key in keys.items():
        if "#" in key or name not in present:
            continue
        knob = present[name]
        found.append((key, knob, companions.get(f"{key}#{tab_knobs.TCL_ROLE}"),
                      tab_knobs.spec_of(knob, specs.get(key))))
    return found


def reset(node: Any) -> None:
    """"Reset to workflow values": every input knob back to the file's value (animation cleared)."""
    workflow = wf.load_workflow(workflow_path(node))
    by_key = {i.key: i for i in list_inputs(workflow)}
    for key, knob, _, spec in _inputs(node):
        if key in by_key:
            if hasattr(knob, "clearAnimated") and knob.isAnimated():
                knob.clearAnimated()
            tab_knobs.write(knob, spec, by_key[key].value)


def read_values(node: Any, frames: Sequence[int]) -> Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]:
    """(static values, per-frame values) of the tab's knobs for the request, typed as the inputs declare.

    Animated knobs, expressions and TCL text (its box ticked) are read at every frame; the rest once.
    Raises tab_knobs.TabValueError naming the knob when one holds what its input cannot take.
    """
    static: Dict[str, Any] = {}
    per_frame: Dict[str, Dict[str, Any]] = {}
    for key, knob, tcl, spec in _inputs(node):
        if frames and tab_knobs.varies(knob, spec, tcl):
            per_frame[key] = {str(f): tab_knobs.read_at(knob, spec, tcl, f) for f in frames}
        else:
            static[key] = tab_knobs.read_at(knob, spec, tcl, None)
    return static, per_frame


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
    problems: List[str] = []
    values: Dict[str, Any] = {}
    if source(node).get("path") == path:
        try:
            values = read_values(node, [])[0]
        except tab_knobs.TabValueError as exc:
            problems.append(str(exc))
    problems += check_workflow(path, per_server, values)
    notes = problems + [n for n in notes if n not in problems]
    if NOTES in node.knobs():
        node[NOTES].setValue("\n".join(notes))
    more = f" (+{len(notes) - 1} more on the Workflow tab)" if len(notes) > 1 else ""
    show_status(node, "workflow ok" if not notes else f"workflow: {notes[0]}{more}")
    return notes


def pick(node: Any, per_server: Dict[str, Any], folder: Optional[str] = None) -> List[str]:
    """Use the studio workflow chosen in the pick list: set the file, rebuild the tab, validate it."""
    node["workflow_file"].setValue(picked_path(node, folder))
    return choose(node, per_server, folder)

