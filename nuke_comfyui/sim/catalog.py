"""The node catalog one simulated server advertises in `GET /object_info` and validates against.

The entries are real ComfyUI 0.8 `object_info` records (kept in `data/object_info.json`), so the
pool's capability checks and the client's combo handling see exactly what a real server sends. A
server of 0.23 or newer advertises real 0.33 records instead (`data/object_info_0.33.json`, with
`SaveImageAdvanced`); data/README.md names the sources.
Two parts are live, like on a real server: LoadImage's `image` combo lists the files in `input/`,
and CheckpointLoaderSimple's `ckpt_name` lists the simulated model. A server's `missing_nodes`
are simply left out, which is how a server without a custom node looks.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

SIM_MODEL = "sim-model.safetensors"
_DATA = Path(__file__).with_name("data") / "object_info.json"
_DATA_033 = Path(__file__).with_name("data") / "object_info_0.33.json"
_BASE: Optional[Dict[str, Any]] = None
_NEWER: Optional[Dict[str, Any]] = None


def _base() -> Dict[str, Any]:
    """The recorded 0.8 catalog, read once per process."""
    global _BASE
    if _BASE is None:
        from nuke_comfyui.sim import batch_nodes

        with _DATA.open("r", encoding="utf-8") as fh:
            _BASE = json.load(fh)
        _BASE.update(batch_nodes.records())
    return _BASE


def _newer() -> Dict[str, Any]:
    """The 0.8 catalog with every class 0.33 also records replaced by its 0.33 record, plus 0.33's own."""
    global _NEWER
    if _NEWER is None:
        with _DATA_033.open("r", encoding="utf-8") as fh:
            _NEWER = {**_base(), **json.load(fh)}
    return _NEWER


def input_files(input_dir: Path) -> List[str]:
    """Files under input/ as LoadImage lists them: `name` or `sub/name`, sorted."""
    found: List[str] = []
    if not input_dir.is_dir():
        return found
    for root, _dirs, files in os.walk(input_dir):
        rel = os.path.relpath(root, input_dir)
        for name in files:
            found.append(name if rel == "." else f"{Path(rel).as_posix()}/{name}")
    return sorted(found)


class Catalog:
    """The node set of one server: which classes exist and what their inputs accept."""

    def __init__(self, missing: Iterable[str] = (), newer: bool = False) -> None:
        self.missing = {m for m in missing if m}
        self._records = _newer() if newer else _base()

    def class_names(self) -> List[str]:
        return [name for name in self._records if name not in self.missing]

    def has(self, class_type: Any) -> bool:
        return isinstance(class_type, str) and class_type in self._records and class_type not in self.missing

    def info(self, class_type: str) -> Dict[str, Any]:
        """The static record of one class (callers must not mutate it)."""
        return self._records[class_type]

    def is_output_node(self, class_type: str) -> bool:
        return bool(self.info(class_type).get("output_node"))

    def return_types(self, class_type: str) -> List[str]:
        return list(self.info(class_type).get("output", []))

    def object_info(self, input_dir: Path, only: Optional[str] = None) -> Dict[str, Any]:
        """The `/object_info` answer, with live combo lists filled in."""
        names = [only] if only is not None else self.class_names()
        out: Dict[str, Any] = {}
        files: Optional[List[str]] = None
        for name in names:
            if not self.has(name):
                continue
            entry = copy.deepcopy(self.info(name))
            if name in ("LoadImage", "LoadImageMask"):
                files = input_files(input_dir) if files is None else files
                entry["input"]["required"]["image"][0] = files
            elif name == "CheckpointLoaderSimple":
                entry["input"]["required"]["ckpt_name"][0] = [SIM_MODEL]
            out[name] = entry
        return out

    def input_spec(self, class_type: str, live: Optional[Dict[str, Any]] = None) -> List[tuple]:
        """(name, category, type, extra) for every required then optional input, in declared order.

        A V3 dynamic combo (`COMFY_DYNAMICCOMBO_V3`) is followed by the sub-inputs of the option the
        prompt's `live` inputs chose, as flat `name.sub` entries (ComfyUI's get_finalized_class_inputs).
        """
        info = self.info(class_type)
        specs: List[tuple] = []
        for category in ("required", "optional"):
            section = info.get("input", {}).get(category, {})
            order = info.get("input_order", {}).get(category, list(section))
            for name in order:
                raw = section[name]
                input_type = raw[0]
                if input_type == "COMFY_AUTOGROW_V3":
                    from nuke_comfyui.sim.batch_nodes import expand_autogrow

                    specs.extend(expand_autogrow(name, category, raw))
                    continue
                extra = raw[1] if len(raw) > 1 and isinstance(raw[1], dict) else {}
                if class_type == "CheckpointLoaderSimple" and name == "ckpt_name":
                    input_type = [SIM_MODEL]
                specs.append((name, category, input_type, extra))
                if input_type == DYNAMIC_COMBO:
                    specs += _chosen_option_inputs(name, category, extra, live or {})
        return specs


DYNAMIC_COMBO = "COMFY_DYNAMICCOMBO_V3"


def _chosen_option_inputs(name: str, category: str, extra: Dict[str, Any], live: Dict[str, Any]) -> List[tuple]:
    """The flat `name.sub` inputs of the dynamic combo option `live[name]` selects (none if unknown)."""
    for option in extra.get("options", []):
        if isinstance(option, dict) and option.get("key") == live.get(name):
            found = []
            for sub_category in ("required", "optional"):
                for sub, raw in option.get("inputs", {}).get(sub_category, {}).items():
                    sub_extra = raw[1] if len(raw) > 1 and isinstance(raw[1], dict) else {}
                    found.append((f"{name}.{sub}", sub_category if category == "required" else category,
                                  raw[0], sub_extra))
            return found
    return []
