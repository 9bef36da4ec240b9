"""Scripts as `.nk` text (and .gizmo files), written and read with Nuke's quoting rules.

Sources: the .nk files Nuke writes (and the repo's own gizmos/*.gizmo): one block per node,
`Class { knob value ... }`, connections through the node stack (`set Nxx [stack 0]`,
`push $Nxx`, `push 0`, input 0 on top), groups closed by `end_group`, user knobs as
`addUserKnob {id name l label ...}` followed by their value, animated knobs as
`{{curve x1 0 x10 5}}` and expressions as `{{frame*2}}`. Values are TCL words, so `[`, `$`,
`\\` and quotes are escaped; reading a file never evaluates them. A gizmo instance is saved as
its knobs only (its internals come from the .gizmo file again); a Group saves its children.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

from . import _create, _nodes
from ._knobs import INVISIBLE, Knob, Script_Knob, String_Knob, Tab_Knob, Text_Knob
from ._numeric import ID_OF_CLASS, KNOB_IDS, Array_Knob, Enumeration_Knob, make_knob
from ._state import not_modelled, require_main_thread, state
from ._tcl import iter_words, quote, unquote

GIZMO_IGNORED = ("tile_color", "help", "note_font", "note_font_size", "gl_color")
_FLAGS = {"+INVISIBLE": INVISIBLE, "-STARTLINE": 0, "+STARTLINE": 0}


# ----------------------------------------------------------------------------- knob text
def _user_knob(spec: str) -> Tuple[Knob, List[str]]:
    """One `addUserKnob {N name l label t tip M {..} R min max T value +FLAG}` into a fake knob."""
    words = list(iter_words(spec[1:-1]))
    type_id, name = int(words[0]), unquote(words[1])
    if type_id not in KNOB_IDS:
        raise not_modelled(f"addUserKnob type {type_id}")
    options: Dict[str, List[str]] = {}
    flags: List[str] = []
    i = 2
    while i < len(words):
        word = words[i]
        if word[:1] in "+-" and len(word) > 1 and not word[1:].isdigit():
            flags.append(word)
            i += 1
        elif word == "R":
            options["R"] = [words[i + 1], words[i + 2]]
            i += 3
        else:
            options[word] = [words[i + 1]]
            i += 2
    cls = KNOB_IDS[type_id]
    label = unquote(options["l"][0]) if "l" in options else None
    items = [unquote(w) for w in iter_words(options["M"][0][1:-1])] if "M" in options else []
    knob = make_knob(cls, name, label, values=items)
    if "T" in options:
        knob._value = unquote(options["T"][0])
    if "R" in options and isinstance(knob, Array_Knob):
        knob.setRange(float(options["R"][0]), float(options["R"][1]))
    knob._tooltip = unquote(options["t"][0]) if "t" in options else ""
    for flag in flags:
        if flag not in _FLAGS:
            raise not_modelled(f"knob flag {flag}")
        knob._flags |= _FLAGS[flag]
    return knob, flags


def _user_knob_line(knob: Knob) -> str:
    parts = [str(ID_OF_CLASS[type(knob)]), quote(knob._name)]
    if knob._label != knob._name:
        parts += ["l", quote(knob._label)]
    if knob._tooltip:
        parts += ["t", quote(knob._tooltip)]
    if isinstance(knob, Enumeration_Knob):
        parts += ["M", "{" + " ".join(quote(v) for v in knob._values) + "}"]
    if isinstance(knob, Array_Knob) and knob._range != (0.0, 1.0):
        parts += ["R", *(repr(x) for x in knob._range)]
    if isinstance(knob, (Text_Knob, Script_Knob)):
        parts += ["T", quote(str(knob._value))]
    if knob._flags & INVISIBLE:
        parts.append("+INVISIBLE")
    return "addUserKnob {" + " ".join(parts) + "}"


def _value_word(knob: Knob) -> str:
    if isinstance(knob, String_Knob):
        return quote(str(knob._value))
    text = knob.toScript()
    return text if text.startswith("{") else quote(text)


def _set_from_word(knob: Knob, word: str) -> None:
    if word.startswith("{") and not isinstance(knob, String_Knob):
        knob.fromScript(word)
    else:
        knob.fromScript(unquote(word))


def _saved_value(knob: Knob) -> bool:
    """Knobs whose value goes into the script (buttons, tabs and text labels only by definition)."""
    if isinstance(knob, (Script_Knob, Tab_Knob, Text_Knob)):
        return False
    return not (knob._name == "selected" and not knob._value)


# ----------------------------------------------------------------------------- gizmo files
def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def parse_gizmo(path: Path) -> Tuple[List[Knob], int, List[Tuple[str, str]]]:
    """Knobs, input count and inner (class, name) nodes of a .gizmo file's Gizmo/Group block."""
    words = list(iter_words(_strip_comments(path.read_text())))
    start = next(i for i, w in enumerate(words) if w in ("Gizmo", "Group"))
    body = list(iter_words(words[start + 1][1:-1]))
    knobs: Dict[str, Knob] = {}
    inputs = 1
    i = 0
    while i < len(body):
        word = body[i]
        if word == "addUserKnob":
            knob, _ = _user_knob(body[i + 1])
            knobs[knob._name] = knob
        elif word == "inputs":
            inputs = int(body[i + 1])
        elif word in knobs:
            _set_from_word(knobs[word], body[i + 1])
        elif word == "label":
            knobs["label"] = make_knob(String_Knob, "label", value=unquote(body[i + 1]))
        elif word not in GIZMO_IGNORED:
            raise not_modelled(f"gizmo knob {word!r} in {path.name}")
        i += 2
    inner: List[Tuple[str, str]] = []
    rest = words[start + 2:]
    for klass, block in zip(rest, rest[1:]):
        if block.startswith("{") and klass[:1].isupper():
            block_words = list(iter_words(block[1:-1]))
            name = next((unquote(v) for k, v in zip(block_words, block_words[1:]) if k == "name"), klass + "1")
            inner.append((klass, name))
    label = knobs.pop("label", None)
    ordered = list(knobs.values())
    if label is not None:
        ordered.insert(0, label)
    return ordered, inputs, inner


# ------------------------------------------------------------------------------- writing
def _in_dependency_order(children: List[_nodes.Node]) -> List[_nodes.Node]:
    """Upstream nodes before the nodes they feed, as Nuke writes them (the stack needs it)."""
    ordered: List[_nodes.Node] = []

    def visit(node: _nodes.Node) -> None:
        if node in ordered:
            return
        for upstream in node._inputs:
            if upstream is not None and not upstream._deleted and upstream in children:
                visit(upstream)
        ordered.append(node)

    for child in children:
        visit(child)
    return ordered


def _node_block(node: _nodes.Node, ids: Dict[int, str], out: List[str],
                keep: Optional[List[_nodes.Node]] = None) -> None:
    for upstream in reversed(node._inputs):
        inside = upstream is not None and not upstream._deleted and (keep is None or upstream in keep)
        out.append(f"push ${ids[id(upstream)]}" if inside else "push 0")
    out.append(f"{node.Class()} {{")
    out.append(f" inputs {len(node._inputs)}")
    for knob in node._knobs.values():
        if knob._user:
            out.append(" " + _user_knob_line(knob))
        if _saved_value(knob):
            out.append(f" {knob._name} {_value_word(knob)}")
    out.append("}")
    ids[id(node)] = f"N{len(ids) + 1:04x}"
    out.append(f"set {ids[id(node)]} [stack 0]")
    if type(node) is _nodes.Group:
        for child in _in_dependency_order(node._children):
            _node_block(child, ids, out)
        out.append("end_group")


def script_text() -> str:
    root = _nodes.root()
    out = [f"#! {__import__('nuke').EXE_PATH} -nx", "version 15.1 v3", "Root {", " inputs 0"]
    for knob in root._knobs.values():
        if _saved_value(knob):
            out.append(f" {knob._name} {_value_word(knob)}")
    out.append("}")
    ids: Dict[int, str] = {}
    for node in _in_dependency_order(root._children):
        _node_block(node, ids, out)
    return "\n".join(out) + "\n"


def scriptName() -> str:
    name = str(_nodes.root()._knobs["name"]._value)
    if not name:
        raise RuntimeError("No name set for this script")
    return name


def scriptSave(filename: Optional[str] = None) -> bool:
    require_main_thread("scriptSave")
    path = filename or str(_nodes.root()._knobs["name"]._value)
    if not path:
        raise RuntimeError("No name set for this script")
    _nodes.root()._knobs["name"]._value = str(path)
    Path(path).write_text(script_text())
    state().modified = False
    return True


def scriptSaveAs(filename: Optional[str] = None, overwrite: int = -1) -> None:
    """Foundry: overwrite 1 replaces, 0 refuses, -1 asks the user (no dialog in the fake)."""
    if filename and Path(filename).exists() and overwrite != 1:
        if overwrite == 0:
            raise RuntimeError(f"{filename} already exists")
        raise not_modelled("the overwrite question of scriptSaveAs")
    scriptSave(filename)


def scriptClear(*args: object, **kwargs: object) -> None:
    require_main_thread("scriptClear")
    if state().root is not None:
        for node in list(state().root._children):  # type: ignore[union-attr]
            _create.delete(node)
    state().root = None
    state().context.clear()
    state().modified = False
    state().undo_items.clear()


# ------------------------------------------------------------------------------- reading
def _apply_block(node: _nodes.Node, words: List[str]) -> int:
    """Apply a block's knob lines to node; returns its `inputs` count."""
    inputs = len(node._inputs)
    i = 0
    while i < len(words):
        word = words[i]
        if word == "addUserKnob":
            knob, _ = _user_knob(words[i + 1])
            node.addKnob(knob)
        elif word == "inputs":
            inputs = int(words[i + 1])
        elif word == "name":
            node._knobs["name"]._value = unquote(words[i + 1])
        elif word in node._knobs:
            _set_from_word(node._knobs[word], words[i + 1])
        else:
            raise RuntimeError(f"fake nuke: {node.Class()} has no knob {word!r} (while loading the script)")
        i += 2
    return inputs


def _connect(node: _nodes.Node, pending: Dict[int, List[Optional[_nodes.Node]]]) -> None:
    """Give a loaded node the inputs its block popped off the stack. A connection to an input the
    node does not have (a gizmo whose .gizmo file now holds fewer Input nodes than the saved
    script used) is refused: what Nuke does with it is not documented."""
    for index, upstream in enumerate(pending.pop(id(node), [])):
        if index < len(node._inputs):
            node._inputs[index] = upstream
        elif upstream is not None:
            raise not_modelled(f"loading a connection to input {index} of {node.name()}, which has only "
                               f"{len(node._inputs)} inputs")


def load_words(words: List[str], group: _nodes.Group, *, pasting: bool = False) -> List[_nodes.Node]:
    """Create the nodes of .nk words in group (connections through the node stack); returns them.

    Pasting gives a node whose name is taken the next free number (Read1 -> Read2), as Nuke does,
    and refuses a Root block (a script, not copied nodes).
    """
    root = _nodes.root()
    stack: List[Optional[_nodes.Node]] = []
    named: Dict[str, _nodes.Node] = {}
    pending: Dict[int, List[Optional[_nodes.Node]]] = {}
    groups: List[_nodes.Group] = [group]
    created: List[_nodes.Node] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "version":
            i += 3
        elif word == "push":
            ref = words[i + 1]
            stack.append(None if ref in ("0", "$cut_paste_input") else named[ref.lstrip("$")])
            i += 2
        elif word == "set":
            named[words[i + 1]] = stack[-1]  # type: ignore[assignment]
            i += 3
        elif word == "end_group":
            _connect(groups.pop(), pending)
            i += 1
        elif word == "Root":
            if pasting:
                raise not_modelled("pasting a whole script (a Root block)")
            _apply_block(root, list(iter_words(words[i + 1][1:-1])))
            i += 2
        else:
            node = _create.make_node(word, groups[-1])
            count = _apply_block(node, list(iter_words(words[i + 1][1:-1])))
            if pasting:
                _create.free_name(node)
            pending[id(node)] = [stack.pop() if stack else None for _ in range(count)]
            stack.append(node)
            created.append(node)
            if type(node) is _nodes.Group:
                groups.append(node)  # its Input nodes (so its inputs) follow: connect at end_group
            else:
                _connect(node, pending)
            i += 2
    return created


def scriptOpen(filename: Optional[str] = None) -> None:
    """Clear and load a .nk script, then run the onScriptLoad callbacks.

    Foundry's reference: scriptOpen raises RuntimeError when the file cannot be loaded (missing,
    unreadable, or a node class Nuke does not know, e.g. a gizmo not on the plugin path). Loading
    runs each node's onCreate callbacks (Foundry: "onCreate ... also when loading a script") and
    leaves the script unmodified; onScriptLoad follows.
    """
    require_main_thread("scriptOpen")
    if filename is None:
        raise not_modelled("scriptOpen without a file name (the file dialog)")
    try:
        text = Path(filename).read_text()
    except OSError as exc:
        raise RuntimeError(f"{filename}: {exc.strerror or exc}") from None
    words = list(iter_words(_strip_comments(text)))
    scriptClear()
    root = _nodes.root()
    state().loading += 1
    try:
        created = load_words(words, root)
        root._knobs["name"]._value = str(filename)
        for node in created:
            _create.run_on_create(node)
    finally:
        state().loading -= 1
    state().modified = False
    for call, args, kwargs in list(state().on_script_load):
        call(*args, **kwargs)


BASE_KNOBS = ("name", "label", "xpos", "ypos", "selected")


def node_text(node: _nodes.Node, klass: Optional[str] = None) -> str:
    """One node (and, for a group or gizmo copied as a Group, its internals) as .nk text, unconnected.

    With klass="Group" (Gizmo.makeGroup) the gizmo's own knobs are declared as user knobs of the
    Group, so the copy carries them with their values.
    """
    ids: Dict[int, str] = {}
    out = [f"{klass or node.Class()} {{", f" inputs {len(node._inputs)}"]
    for knob in node._knobs.values():
        if knob._user or (klass and knob._name not in BASE_KNOBS):
            out.append(" " + _user_knob_line(knob))
        if _saved_value(knob):
            out.append(f" {knob._name} {_value_word(knob)}")
    out.append("}")
    if klass == "Group" or type(node) is _nodes.Group:
        for child in _in_dependency_order(node._children):  # type: ignore[attr-defined]
            _node_block(child, ids, out)
        out.append("end_group")
    return "\n".join(out) + "\n"


def selected_text(group: _nodes.Group) -> str:
    """The selected nodes of group as .nk text (nodeCopy): connections among them kept, others cut."""
    chosen = [n for n in group._children if n.isSelected()]
    ids: Dict[int, str] = {}
    out: List[str] = []
    for node in _in_dependency_order(chosen):
        _node_block(node, ids, out, keep=chosen)
    return "\n".join(out) + "\n"
