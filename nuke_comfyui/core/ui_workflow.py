"""ComfyUI's normal workflow files (the frontend's Save) converted to the API format servers run.

The conversion is the frontend's own graph-to-prompt, written out in `core/ui_convert/` (one job
per module: subgraphs, widget values, V3 inputs, helper nodes, dynamic prompts, checks). This
module keeps the two names the rest of the project imports.
"""

from __future__ import annotations

from nuke_comfyui.core.ui_convert import EXPORT_HINT, convert, is_ui_workflow

__all__ = ["EXPORT_HINT", "convert", "is_ui_workflow"]
