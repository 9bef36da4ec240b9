"""The OCIO config a Nuke script renders with, so a farm job can carry it to every task.

Nuke's order (Foundry, "OCIO Color Management" in the Nuke user guide; read the same way by
deadline-cloud-for-nuke, `nuke_util/ocio.py`): the `OCIO` environment variable wins over the
script; otherwise, with Project Settings > Color > color management set to OCIO, the root's
`OCIO_config` names a stock config (its file is in the hidden `OCIOConfigPath` knob) or
`custom` (the file is `customOCIOConfigPath`). Nuke's own colour management (no OCIO) has no
config to carry. Main thread (reads root knobs).
"""

from __future__ import annotations

import os
from typing import Optional

import nuke

from nuke_comfyui.farm_bundle.colour import is_builtin_config, ocio_config_from_environment
from nuke_comfyui.host.knobs import NodeSetupError


def script_ocio_config(environ: Optional[dict] = None) -> Optional[str]:
    """The config file (absolute) or built-in `ocio://` name of the open script; None without OCIO."""
    from_environment = ocio_config_from_environment(environ)
    if from_environment:
        return _checked(from_environment, "$OCIO")
    root = nuke.root()
    management = root.knob("colorManagement")
    if management is None or str(management.value()) != "OCIO":
        return None
    choice = root.knob("OCIO_config")
    custom = choice is not None and str(choice.value()) == "custom"
    knob = root.knob("customOCIOConfigPath" if custom else "OCIOConfigPath")
    path = str(knob.getEvaluatedValue()).strip() if isinstance(knob, nuke.File_Knob) else ""
    if not path:
        if custom:
            raise NodeSetupError("the script's custom OCIO config path is empty; set it in Project Settings > "
                                 "Color, or choose a stock config")
        return None
    stock = str(choice.value()) if choice is not None else "config"
    return _checked(path, "the custom OCIO config" if custom else f"the stock OCIO config {stock}")


def _checked(path: str, what: str) -> str:
    if is_builtin_config(path):
        return path
    if not os.path.isfile(path):
        raise NodeSetupError(f"{what} {path} is not a file; fix it (Project Settings > Color, or $OCIO) "
                             "so farm tasks can use the script's colours")
    return os.path.abspath(path)
