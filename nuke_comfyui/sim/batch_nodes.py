"""Frame batches on the simulator: the batching nodes and a temporal test node.

- `BatchImagesNode` / `BatchMasksNode`: ComfyUI 0.7+'s Autogrow joiners. Inputs are named
  `images.image0`, `images.image1`, ... (`masks.mask0`, ...) and joined in name order, up to 50;
  a frame whose size differs from the first is resized to it, as ComfyUI's `batch_images` does.
  Their object_info records are the real 0.33 ones (data/object_info_batch.json).
- `SimTemporalSmooth` (simulator only, no real ComfyUI has it): a stand-in for a temporal model.
  Output frame k is the mean of input frames k-1, k, k+1 of the batch (clamped at its ends), so a
  frame's result depends on its neighbours in the batch and a chunk boundary shows, which is
  what seam tests need to see. It runs like a sampler: `steps` steps whose cost grows with the
  batch size, and a server with a VRAM limit fails a batch too big for it with a real
  out-of-memory message (4 GB per megapixel of the whole batch, like the simulated KSampler).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from PIL import Image, ImageChops

#: a node's (outputs, ui) as sim/nodes.py returns it; the context is sim/nodes.NodeContext (not
#: imported: nodes.py registers these functions, so this module stays below it)
NodeResult = Tuple[Tuple[Any, ...], Optional[Dict[str, Any]]]

TEMPORAL = "SimTemporalSmooth"
AUTOGROW = "COMFY_AUTOGROW_V3"
_DATA = Path(__file__).with_name("data") / "object_info_batch.json"


def records() -> Dict[str, Any]:
    """The object_info records of the batch nodes (merged into the simulator's catalog)."""
    with _DATA.open("r", encoding="utf-8") as fh:
        data: Dict[str, Any] = json.load(fh)
    return data


def expand_autogrow(name: str, category: str, raw: Any) -> List[Tuple[str, str, Any, Dict[str, Any]]]:
    """An Autogrow input as the flat inputs a prompt uses: `<name>.<prefix><i>` for i < max, the
    first `min` required (ComfyUI's `Autogrow._expand_schema_for_dynamic`)."""
    template = raw[1]["template"]
    inner = next(iter(template["input"].get("required", {}).values()))
    out = []
    for i in range(int(template.get("max", 1))):
        needed = "required" if i < int(template.get("min", 0)) and category == "required" else "optional"
        out.append((f"{name}.{template['prefix']}{i}", needed, inner[0], inner[1] if len(inner) > 1 else {}))
    return out


def _ordered(kwargs: Dict[str, Any], prefix: str) -> List[Any]:
    found = [(int(key.rsplit(prefix, 1)[1]), value) for key, value in kwargs.items() if prefix in key]
    return [value for _, value in sorted(found, key=lambda pair: pair[0])]


def _joined(batches: List[List[Image.Image]]) -> List[Image.Image]:
    frames = [img for batch in batches for img in batch]
    if not frames:
        raise ValueError("nothing to batch")
    size = frames[0].size
    return [img if img.size == size else img.resize(size, Image.Resampling.BILINEAR) for img in frames]


def batch_images(ctx: Any, **kwargs: Any) -> NodeResult:
    return (_joined(_ordered(kwargs, ".image")),), None


def batch_masks(ctx: Any, **kwargs: Any) -> NodeResult:
    return (_joined(_ordered(kwargs, ".mask")),), None


def temporal_smooth(ctx: Any, *, image: List[Image.Image], steps: int = 4) -> NodeResult:
    out = []
    for k, frame in enumerate(image):
        before, after = image[max(0, k - 1)], image[min(len(image) - 1, k + 1)]
        if before.size != frame.size or after.size != frame.size:
            raise ValueError("frames of one batch must share a size")
        pair = ImageChops.add(before.convert("RGB"), after.convert("RGB"), scale=2.0)  # (a + b) / 2, floored
        out.append(Image.blend(pair, frame.convert("RGB"), 1.0 / 3.0))
    return (out,), None


FUNCTIONS = {
    "BatchImagesNode": batch_images,
    "BatchMasksNode": batch_masks,
    TEMPORAL: temporal_smooth,
}


def batch_megapixels(images: List[Image.Image]) -> float:
    """Pixels a temporal node holds at once: the whole batch, in megapixels."""
    return sum(img.width * img.height for img in images) / 1_000_000.0
