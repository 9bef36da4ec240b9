"""A hand-written fake of the parts of Foundry's `nukescripts` the plugin uses (panels only).

`registerWidgetAsPanel` takes the widget as a dotted-path string, like real Nuke, and never
imports it: the class is resolved only when a pane is actually created (`_fake_create`), which
is how the plugin avoids importing Qt while menu.py runs.
"""

from __future__ import annotations

from nukescripts import panels

__all__ = ["panels"]
