"""init.py's onCreate / onScriptLoad hooks, kept thin.

init.py runs on every Nuke start-up, farm renders included: registering `host.arrival` itself
would import the node code (knobs, logging, the errors) before any Comfy node exists. These
hooks import it when a Comfy node (or a Group, which may be one baked) actually arrives.
"""

from __future__ import annotations

import nuke

from nuke_comfyui.host.node_class import NODE_CLASS


def register() -> None:
    """Add the hooks (registering twice keeps one entry: Nuke lists a callback once)."""
    nuke.addOnCreate(on_create, nodeClass=NODE_CLASS)
    nuke.addOnCreate(on_create, nodeClass="Group")  # a Comfy node baked into a Group
    nuke.addOnScriptLoad(on_script_load)


def on_create() -> None:
    from nuke_comfyui.host import arrival

    arrival.on_create()


def on_script_load() -> None:
    from nuke_comfyui.host import arrival

    arrival.on_script_load()
