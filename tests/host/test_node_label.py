"""The node's label in the Node Graph is a short status (state and counts), safe from TCL evaluation.

Fake-nuke behaviour relied on: a label's text is TCL-evaluated (`[value knob]`), as in Nuke's
Node Graph (tests/host/test_fake_nuke_behaviour.py, String_Knob.value).
"""

from __future__ import annotations

import nuke

from nuke_comfyui.host import knobs
from nuke_comfyui.host.report import LABEL_CHARS, short_status


def test_the_label_shows_the_first_line_cut_short_without_tcl_characters() -> None:
    node = nuke.createNode(knobs.NODE_CLASS, inpanel=False)
    assert node["label"].value() == "idle"
    knobs.show_status(node, "running: 7/12 done, 1 failed, eta 20s\nfailed frame 1003 v1 on gpu2: out of memory")
    assert node["label"].value() == "running: 7/12 done, 1 failed, eta 20s"
    knobs.show_status(node, "workflow: [Errno 2] No such file: C:\\shots\\$SHOT\\a.json {x}")
    label = node["label"].value()  # evaluating it must not run [Errno 2] or read $SHOT
    assert "[" not in label and "$" not in label and len(label) <= LABEL_CHARS
    assert node[knobs.STATUS].value().startswith("workflow: [Errno 2]")  # the full text stays on the panel


def test_an_unchanged_status_does_not_rewrite_the_label() -> None:
    node = nuke.createNode(knobs.NODE_CLASS, inpanel=False)
    knobs.show_status(node, "completed: 3/3 done")
    mark = nuke.Undo.undoSize()
    knobs.show_status(node, "completed: 3/3 done\n")
    assert [item for item in nuke._fake_state().undo_items[mark:] if "status_label" in item] == []


def test_short_status_of_a_long_line() -> None:
    assert short_status("x" * 100).endswith("...") and len(short_status("x" * 100)) == LABEL_CHARS
    assert short_status("") == ""
