"""The Comfy node's input arrows: one per image-loading node of its workflow, named by its title.

How Nuke does it (what this relies on): a group or gizmo has one input per Input node inside it,
numbered in creation order (the Input's hidden `number` knob), and each arrow is labelled by its
Input node's name, less a leading "Input" (Foundry's Input node reference; Nukepedia "Working with
Pipe Numbers"; keheka "The Hidden Number In Nuke"). A saved script holds a gizmo's knobs and its
connections, never its internals: those come from the .gizmo file again when the script opens
(Foundry "Creating and Accessing Gizmos"), and there is no documented outcome for a saved
connection to an input the reopened gizmo does not have.

Design, so connections survive save and reopen: the gizmo ships MAX_ARROWS Input nodes. On
reopen every saved connection finds its input again (the script never uses more than the file
holds). `sync_inputs` then fits the arrows to the workflow: it deletes surplus Input nodes from
the last-numbered one down (which never renumbers the others), creates missing ones (numbered
after the rest), and renames each after its loader's title. Which loader each arrow feeds is kept
in the hidden `image_inputs` knob (saved with the script), so when the workflow changes each
connection moves to its own loader's new arrow, and a connection whose loader is gone is named in
the returned notes. Names are only looks: Render syncs again before reading the arrows, so a
script opened with no GUI hooks (`nuke -t`, a farm without the plugin's menus) renders each input
into its own loader. Input nodes made on demand (a gizmo with one Input, growing) were rejected:
they vanish on reopen and their connections with them.

Without a workflow (a new node) only unconnected trailing arrows are removed, down to one; an
unreadable workflow changes nothing (its problem is returned); a workflow with no loader keeps a
single unlabelled arrow (the pass-through). A workflow with more loaders than MAX_ARROWS gets
arrows for the first ones; the rest keep their workflow files (Render refuses a required one).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import nuke

from nuke_comfyui.core.workflow_sidecar import ImageSlot
from nuke_comfyui.host import quiet_edits, workflow_facts

MAX_ARROWS = 8  # Input nodes in gizmos/ComfyRender.gizmo
KNOB = "image_inputs"
WORKFLOW = "workflow_file"
INPUT_CLASS = "Input"


@dataclass
class Arrows:
    """The node's arrows after a sync: slots[i] feeds input i; `beyond` got no arrow."""

    slots: List[ImageSlot] = field(default_factory=list)
    beyond: List[ImageSlot] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    readable: bool = True  # False: the workflow could not be read, the arrows were left alone


def sync_inputs(node: Any, object_info: Optional[Dict[str, Any]] = None) -> List[str]:
    """Fit node's input arrows to its workflow's image loaders; returns notes for the node.

    For the Workflow tab (knobChanged on `workflow_file`, Reload) and Render. object_info is the
    farm's cached `/object_info` (needed only for UI-format workflows); main thread only.
    """
    return sync(node, object_info).notes


def sync(node: Any, object_info: Optional[Dict[str, Any]] = None) -> Arrows:
    """sync_inputs, returning the arrows too (Render reads which loader each input feeds)."""
    try:
        path = str(node[WORKFLOW].value()).strip()
    except (RuntimeError, ValueError, SyntaxError) as exc:  # TCL that does not evaluate
        return Arrows(notes=[f"image inputs unchanged: 'workflow file' does not evaluate ({exc})"], readable=False)
    if not path:  # every connection stays where it is; only unconnected trailing arrows go
        count = max(1, _last_connected(node) + 1)
        _fit(node, count, (saved_loaders(node) + [""] * count)[:count])
        return Arrows(readable=False)
    found = workflow_facts.image_slots_of(path, object_info)
    if found is None:
        why = workflow_facts.problem(path, object_info) or "it cannot be read"
        return Arrows(notes=[f"image inputs unchanged: {why}"], readable=False)
    slots, notes = found
    shown, beyond = slots[:MAX_ARROWS], slots[MAX_ARROWS:]
    if beyond:
        notes.append(f"the workflow has {len(slots)} image-loading nodes and the node {MAX_ARROWS} inputs: "
                     + ", ".join(_describe(s) for s in beyond) + " keep their workflow files")
    notes += _fit(node, max(1, len(shown)), [s.image.node for s in shown])
    _rename(node, shown)
    _save(node, shown)
    return Arrows(slots=shown, beyond=beyond, notes=notes)


def _describe(slot: ImageSlot) -> str:
    return f"'{slot.label}' (node {slot.image.node})"


def input_nodes(node: Any) -> List[Any]:
    """The Input nodes inside the gizmo, by input number."""
    return sorted((n for n in node.nodes() if n.Class() == INPUT_CLASS), key=lambda n: int(n["number"].value()))


def _last_connected(node: Any) -> int:
    return max((i for i in range(node.maxInputs()) if node.input(i) is not None), default=-1)


def saved_loaders(node: Any) -> List[str]:
    """Loader node ids of the arrows as last synced (from the hidden knob; [] if never or damaged)."""
    knob = node.knobs().get(KNOB)
    text = str(knob.getText()) if isinstance(knob, nuke.String_Knob) else ""
    try:
        data = json.loads(text) if text.strip() else []
    except ValueError:
        return []
    return [str(entry.get("node", "")) for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []


def _fit(node: Any, count: int, loaders: List[str]) -> List[str]:
    """Make `count` arrows, each loader's connection on its new arrow; notes name dropped ones.

    Only what differs is touched: opening the panel of a node whose arrows are right edits nothing
    (each setInput, rename or delete is an undoable edit that marks the script modified in Nuke).
    The Input nodes inside a gizmo are not saved with the script, so creating, deleting and naming
    them is done without undo and without marking the script modified (host.quiet_edits);
    connections are real edits.
    """
    before = saved_loaders(node)
    upstream = {i: node.input(i) for i in range(node.maxInputs()) if node.input(i) is not None}
    placed: Dict[int, Tuple[int, Any]] = {}  # new input -> (old input, upstream node)
    for old, up in upstream.items():  # arrows never synced (a new node, an older script) stay put
        if old >= len(before) or not before[old]:
            placed[old] = (old, up)
    for new, loader in enumerate(loaders):
        old = before.index(loader) if loader and loader in before else -1
        if old in upstream:
            placed[new] = (old, upstream[old])
    wanted = {new: up for new, (_, up) in placed.items() if new < count}
    dropped = [f"{up.name()} (from input {old + 1}{', node ' + before[old] if old < len(before) else ''})"
               for old, up in upstream.items() if old not in {o for n, (o, _) in placed.items() if n < count}]
    for index, up in upstream.items():  # connections leaving an arrow (moved, dropped, or on an arrow that goes)
        if wanted.get(index) is not up:
            node.setInput(index, None)
    if node.maxInputs() != count:
        with quiet_edits.inside(node), node:
            while node.maxInputs() > count:
                nuke.delete(input_nodes(node)[-1])
            while node.maxInputs() < count:
                nuke.nodes.Input()
    for index, up in sorted(wanted.items()):
        if node.input(index) is not up:
            node.setInput(index, up)
    return ["disconnected " + ", ".join(dropped) + ": the workflow has no image input for them"] if dropped else []


def _names(slots: List[ImageSlot]) -> List[str]:
    """Node names that draw each slot's label ("Input" alone draws none); unique, valid names."""
    names: List[str] = []
    for slot in slots:
        base = re.sub(r"[^A-Za-z0-9_]+", "_", slot.label).strip("_") or f"image_{slot.image.node}"
        if base[0].isdigit():
            base = "_" + base
        if base.startswith("Input"):  # Nuke hides a leading "Input": keep the label whole
            base = "Input" + base
        name = base if base not in names else f"{base}_{slot.image.node}"
        while name in names:
            name += "_"
        names.append(name)
    return names or ["Input"]


def _rename(node: Any, slots: List[ImageSlot]) -> None:
    """Name each Input node after its loader; only the ones whose name differs, and only then."""
    arrows = input_nodes(node)
    others = {n.name() for n in node.nodes() if n.Class() != INPUT_CLASS}
    wanted = [name if name not in others else name + "_in" for name in _names(slots)][:len(arrows)]
    differing = [(inner, name) for inner, name in zip(arrows, wanted) if inner.name() != name]
    if not differing:
        return
    with quiet_edits.inside(node):
        for index, (inner, _) in enumerate(differing):  # first out of the way, so two arrows can swap names
            inner.setName(f"nkc_arrow_{index}_tmp")
        for inner, name in differing:
            inner.setName(name)


def _save(node: Any, slots: List[ImageSlot]) -> None:
    text = json.dumps([{"node": s.image.node, "title": s.image.title} for s in slots])
    if KNOB in node.knobs() and node[KNOB].getText() != text:
        node[KNOB].setValue(text)


def sync_all(object_info: Optional[Dict[str, Any]] = None) -> None:
    """onScriptLoad: label every Comfy node's arrows again (the gizmo file brought its defaults back)."""
    from nuke_comfyui.host.knobs import all_comfy_nodes

    for comfy in all_comfy_nodes():
        try:
            sync(comfy, object_info)
        except Exception as exc:  # noqa: BLE001 - one odd node must not stop the others being labelled
            nuke.tprint(f"nuke-comfyui {comfy.fullName()}: input arrows not updated: {exc}")
