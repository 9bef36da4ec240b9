"""Edits inside a gizmo that the script never saves: made without undo and without marking the script modified.

A gizmo instance is saved as its knobs and connections only; its internals come from the .gizmo
file again whenever the script opens (Foundry, "Creating and Accessing Gizmos"). Naming, adding or
deleting the ComfyRender gizmo's Input nodes (its input arrows, host.image_arrows) therefore changes
nothing a save would write, yet in Nuke every such call is an undoable edit that marks the script
modified, so an artist who only opened a script or a panel would be asked to save, and Ctrl+Z would
step through our label fixes. Inside `inside(node)` undo recording is off (nuke.Undo.disable) and
the modified flag is put back as it was. A node baked into a Group (makeGroup) saves its internals,
so there the edits are left as the real edits they are.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import nuke


def saves_internals(node: Any) -> bool:
    """True for a Group (its inside is written to the script), False for a gizmo instance."""
    return not isinstance(node, nuke.Gizmo)


@contextmanager
def inside(node: Any) -> Iterator[None]:
    """Edits of node's internals that the script does not save leave no undo step and no modified flag."""
    if saves_internals(node):
        yield
        return
    root = nuke.root()
    was_modified = bool(root.modified())
    nuke.Undo.disable()
    try:
        yield
    finally:
        nuke.Undo.enable()
        if not was_modified:
            root.setModified(False)
