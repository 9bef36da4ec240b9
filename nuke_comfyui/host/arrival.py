"""A Comfy node that arrives in a script (opened, pasted, imported, baked into a Group) gets its arrows at once.

The node's input arrows are the Input nodes inside the gizmo, named after the workflow's image
loaders (host.image_arrows). A gizmo's internals are not saved with the script: they come back from
the .gizmo file (eight arrows named Input1..Input8) whenever a node is loaded, pasted or imported,
so each arriving node is fitted again without waiting for its panel to open:

- a script opened (GUI, `nuke -t`, a farm): the onScriptLoad hook fits every Comfy node once the
  whole script, connections included, is loaded;
- a node pasted or imported in the GUI: onCreate hands the fit to the event loop, so it runs after
  the paste has finished (when the node's connections are made; Foundry does not document whether
  onCreate runs before or after them, and fitting early could drop a connection to an arrow that
  was not there yet);
- without a GUI there is no event loop, so a node pasted by a `nuke -t` script is fitted when it is
  rendered (Render fits the arrows before reading them) or when the script is saved and reopened.

init.py registers these hooks in every session; the fit of a gizmo's internals leaves no undo step
and no modified flag (host.quiet_edits), so opening a script does not make it "modified".
"""

from __future__ import annotations

import logging

import nuke

from nuke_comfyui.host.knobs import is_comfy

log = logging.getLogger(__name__)


def on_create() -> None:
    """onCreate: in the GUI, fit the new node's arrows once the paste or load has finished. Never raises."""
    try:
        node = nuke.thisNode()
        if not nuke.GUI or not is_comfy(node):
            return
        from nuke_comfyui.host.deferred import after_callback

        after_callback(fit_by_name, str(node.fullName()))
    except Exception:
        log.warning("nuke-comfyui: could not schedule fitting a new node's input arrows", exc_info=True)


def fit_by_name(name: str) -> None:
    """Main thread: fit the arrows of the Comfy node called name (gone or renamed since: nothing to do)."""
    from nuke_comfyui.host.graph import find_node
    from nuke_comfyui.host.workflow_events import fit_arrows

    node = find_node(name)
    if node is not None and is_comfy(node):
        fit_arrows(node, start_farm=False)  # a pasted or loaded node starts no network work


def on_script_load() -> None:
    """onScriptLoad: label every Comfy node's arrows (the gizmo file brought its defaults back), and point
    Workflow-tab buttons saved by an older version at today's module. Never raises."""
    try:
        from nuke_comfyui.host.image_arrows import sync_all
        from nuke_comfyui.host.knobs import all_comfy_nodes
        from nuke_comfyui.host.workflow_tab import update_buttons

        sync_all()
        for node in all_comfy_nodes():  # an older script's Workflow-tab buttons called another module
            update_buttons(node)
    except Exception:  # a script must load whatever happens here; the log has the problem
        log.warning("nuke-comfyui: input arrows not updated after loading", exc_info=True)
