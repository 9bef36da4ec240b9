"""The TD's sidecar: which inputs of a workflow artists see, their labels, order, required images.

A file `<workflow name>.nkc.json` beside the workflow (`shot_v3.json` -> `shot_v3.nkc.json`):

    {
      "nuke_comfyui_sidecar": 1,
      "inputs": [
        {"input": "6.text", "label": "Prompt"},
        {"input": "KSampler.denoise", "label": "Denoise"},
        "KSampler.steps"
      ],
      "images": [
        {"node": "plate", "label": "Plate", "required": true},
        {"node": "12", "label": "Holdout matte"}
      ]
    }

`inputs` lists the visible inputs in display order (`NODE.INPUT`, NODE a node id or title, as
`--set` takes them; a bare string is an input with its own name as label); inputs not listed are
hidden and keep the workflow's values. Without `inputs` every input is shown. `images` labels
image inputs and says which must be connected: `"required": true` must be, `"required": false`
may stay unconnected (the workflow's own file is used). Where the sidecar does not say, the
caller decides (the Nuke node: required unless every server has the workflow's file). A sidecar
naming something the workflow lacks is reported, never fatal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.core import text_files
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.image_inputs import ImageInput
from nuke_comfyui.core.workflow import MAX_WORKFLOW_BYTES
from nuke_comfyui.core.workflow_inputs import InputsView, InputValueError, WorkflowInput, find_input

SUFFIX = ".nkc.json"
FORMAT_KEY = "nuke_comfyui_sidecar"


@dataclass
class Sidecar:
    """What a sidecar file says (empty = show everything)."""

    inputs: Optional[List[Tuple[str, str]]] = None  # (reference, label) in display order
    #: reference -> (label, required); required None when the sidecar does not say
    images: Dict[str, Tuple[str, Optional[bool]]] = field(default_factory=dict)
    path: str = ""


def sidecar_path(workflow_path: str) -> Path:
    path = Path(workflow_path)
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return path.with_name(stem + SUFFIX)


def load_sidecar(workflow_path: str) -> Sidecar:
    """The sidecar beside the workflow, or an empty one when there is none."""
    path = sidecar_path(workflow_path)
    if not path.is_file():
        return Sidecar()
    try:
        data = json.loads(text_files.read_text(path, MAX_WORKFLOW_BYTES))
    except (OSError, ValueError) as exc:  # a FIFO, a huge file, bad JSON or bad UTF-8
        raise WorkflowError(f"sidecar {path} cannot be read ({exc}); fix it or remove it") from None
    if not isinstance(data, dict) or data.get(FORMAT_KEY) != 1:
        raise WorkflowError(f"sidecar {path} must be a JSON object with \"{FORMAT_KEY}\": 1 (see docs/NUKE.md)")
    sidecar = Sidecar(path=str(path))
    if "inputs" in data:
        if not isinstance(data["inputs"], list):
            raise WorkflowError(f"sidecar {path}: \"inputs\" must be a list of \"NODE.INPUT\" or objects")
        sidecar.inputs = [_entry(path, e, "input") for e in data["inputs"]]
    for entry in data.get("images") or []:
        ref, label = _entry(path, entry, "node")
        said = entry.get("required") if isinstance(entry, dict) else None
        sidecar.images[ref] = (label, None if said is None else bool(said))
    return sidecar


def _entry(path: Path, entry: Any, key: str) -> Tuple[str, str]:
    if isinstance(entry, str):
        return entry, ""
    if isinstance(entry, dict) and isinstance(entry.get(key), str):
        return entry[key], str(entry.get("label") or "")
    raise WorkflowError(f"sidecar {path}: entry {entry!r} needs a {key!r} name")


def apply(sidecar: Sidecar, inputs: Sequence[WorkflowInput]) -> InputsView:
    """Choose, label and order the inputs as the sidecar says (all of them, unlabelled, without one)."""
    if sidecar.inputs is None:
        return InputsView(list(inputs))
    shown: List[WorkflowInput] = []
    problems: List[str] = []
    for reference, label in sidecar.inputs:
        try:
            item = find_input(inputs, reference)
        except InputValueError as exc:
            problems.append(f"sidecar {Path(sidecar.path).name}: {exc}")
            continue
        if item.key not in {s.key for s in shown}:
            shown.append(replace(item, label=label))
    keys = {s.key for s in shown}
    return InputsView(shown, hidden=[i for i in inputs if i.key not in keys], problems=problems)


@dataclass(frozen=True)
class ImageSlot:
    """An image input as the node shows it."""

    image: ImageInput
    label: str
    required: Optional[bool]  # None: the sidecar does not say


def image_slots(sidecar: Sidecar, images: Sequence[ImageInput]) -> Tuple[List[ImageSlot], List[str]]:
    """Labels and required flags of the image inputs, plus sidecar entries naming no loader."""
    slots = []
    used = set()
    for image in images:
        match = next((r for r in sidecar.images if r == image.node or r.lower() == image.title.lower()), None)
        label, required = sidecar.images.get(match, ("", None)) if match else ("", None)
        if match:
            used.add(match)
        slots.append(ImageSlot(image, label or image.title, required))
    problems = [f"sidecar {Path(sidecar.path).name}: no image-loading node {r!r} in the workflow"
                for r in sidecar.images if r not in used]
    return slots, problems
