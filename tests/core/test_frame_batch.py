"""The batch in: a workflow's input loader rewritten to feed a chunk's frames as one ordered batch."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Dict

import pytest

from nuke_comfyui.core import frame_batch
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.frame_batch import BATCH_IMAGES, BATCH_MASKS, IMAGE_BATCH, batch_input, expand
from nuke_comfyui.core.pool.placement import Placement, unfit_reason

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OBJECT_INFO_033 = Path("/work/shared/comfyui-0.33-captures/object_info.json.gz")


def workflow() -> Dict[str, Any]:
    return json.loads((EXAMPLES / "invert.json").read_text())


def _source(prompt: Dict[str, Any], link: Any) -> list:
    """The loader values feeding `link`, in batch order, by walking the joiners."""
    node = prompt[link[0]]
    if node["class_type"] == BATCH_IMAGES:
        keys = sorted(node["inputs"], key=lambda k: int(k.rsplit("image", 1)[1]))
        return [v for k in keys for v in _source(prompt, node["inputs"][k])]
    if node["class_type"] == IMAGE_BATCH:
        return _source(prompt, node["inputs"]["image1"]) + _source(prompt, node["inputs"]["image2"])
    return [node["inputs"]["image"]]


def test_batch_images_node_joins_frames_in_order_and_the_workflow_reads_the_batch() -> None:
    prompt = workflow()
    values = [f"in/plate.{f:04d}.png" for f in range(1, 9)]
    expand(prompt, batch_input(prompt, "1"), values, lambda c: True)
    link = prompt["2"]["inputs"]["image"]
    assert prompt[link[0]]["class_type"] == BATCH_IMAGES and link[1] == 0
    assert _source(prompt, link) == values
    assert sorted(prompt[link[0]]["inputs"]) == sorted(f"images.image{k}" for k in range(8))
    assert sum(1 for n in prompt.values() if n["class_type"] == "LoadImage") == 8


def test_more_than_fifty_frames_use_a_tree_of_batch_nodes() -> None:
    prompt = workflow()
    values = [f"f{k}.png" for k in range(121)]
    expand(prompt, batch_input(prompt, "1"), values, lambda c: True)
    assert _source(prompt, prompt["2"]["inputs"]["image"]) == values
    joiners = [n for n in prompt.values() if n["class_type"] == BATCH_IMAGES]
    assert all(len(n["inputs"]) <= frame_batch.AUTOGROW_MAX for n in joiners) and len(joiners) == 4


def test_servers_without_batch_images_node_get_an_image_batch_chain() -> None:
    prompt = workflow()
    values = ["a.png", "b.png", "c.png"]
    expand(prompt, batch_input(prompt, "1"), values, lambda c: c == IMAGE_BATCH)
    assert _source(prompt, prompt["2"]["inputs"]["image"]) == values
    assert not any(n["class_type"] == BATCH_IMAGES for n in prompt.values())
    with pytest.raises(WorkflowError, match="neither BatchImagesNode nor ImageBatch"):
        expand(workflow(), batch_input(workflow(), "1"), values, lambda c: False)


def test_mask_links_read_a_mask_batch() -> None:
    prompt = workflow()
    prompt["4"] = {"class_type": "MaskToImage", "inputs": {"mask": ["1", 1]}}
    item = batch_input(prompt, "1")
    assert item.image_used and item.mask_used
    assert item.requirements() == (frozenset({BATCH_IMAGES, IMAGE_BATCH}), frozenset({BATCH_MASKS}))
    expand(prompt, item, ["a.png", "b.png"], lambda c: True)
    mask_link = prompt["4"]["inputs"]["mask"]
    joiner = prompt[mask_link[0]]
    assert joiner["class_type"] == BATCH_MASKS
    assert [prompt[v[0]]["inputs"]["image"] for v in joiner["inputs"].values()] == ["a.png", "b.png"]
    assert all(v[1] == 1 for v in joiner["inputs"].values())


def test_one_frame_is_a_plain_prompt() -> None:
    prompt = workflow()
    expand(prompt, batch_input(prompt, "1"), ["only.png"], lambda c: True)
    assert prompt["1"]["inputs"]["image"] == "only.png" and prompt["2"]["inputs"]["image"] == ["1", 0]
    assert len(prompt) == 3


def test_a_server_that_cannot_join_a_batch_is_unfit_by_name() -> None:
    caps = type("Caps", (), {"supported": True, "refusal": ""})()
    config = type("Config", (), {"job_types": []})()
    placement = Placement(class_types={"LoadImage"}, any_of=(frozenset({BATCH_IMAGES, IMAGE_BATCH}),))
    assert unfit_reason(config, caps, frozenset({"LoadImage", IMAGE_BATCH}), None, placement) == ""
    reason = unfit_reason(config, caps, frozenset({"LoadImage"}), None, placement)
    assert "none of BatchImagesNode / ImageBatch" in reason


@pytest.mark.skipif(not OBJECT_INFO_033.exists(), reason="the real ComfyUI 0.33 object_info capture is not here")
def test_the_batch_nodes_exist_in_a_real_033_object_info_as_the_rewrite_names_them() -> None:
    with gzip.open(OBJECT_INFO_033) as fh:
        info = json.loads(fh.read())
    for class_type, prefix in ((BATCH_IMAGES, "image"), (BATCH_MASKS, "mask")):
        spec = next(iter(info[class_type]["input"]["required"].values()))
        assert spec[0] == "COMFY_AUTOGROW_V3"
        assert spec[1]["template"]["prefix"] == prefix and spec[1]["template"]["max"] == frame_batch.AUTOGROW_MAX
    assert set(info[IMAGE_BATCH]["input"]["required"]) == {"image1", "image2"}


RECORDS = Path(__file__).resolve().parents[1] / "integration" / "data"


@pytest.mark.parametrize("version", ["0.33.0", "0.8.2"])
def test_what_real_servers_showed_about_batch_loaders(version: str) -> None:
    """Recorded on real servers (scripts/check_batch_loaders.py): the joins we use keep order and
    pixels; the folder loader does not keep order; the video path is not lossless on 0.33."""
    record = json.loads((RECORDS / f"comfyui-{version}-batch-loaders.json").read_text())
    checks = record["checks"]
    identity = list(range(6))
    for used in ("LoadImage+BatchImagesNode", "LoadImage+ImageBatch"):
        assert checks[used]["order"] == identity and checks[used]["max_abs_error"] == [0] * 6, used
    assert checks["LoadImageDataSetFromFolder"]["order"] != identity
    video = checks["LoadVideo(ffv1_bgr0 mkv)+GetVideoComponents"]
    assert video["order"] == identity and (max(video["max_abs_error"]) > 0) == (version == "0.33.0")


def test_our_rewrite_sends_the_batch_node_inputs_the_real_server_accepted() -> None:
    record = json.loads((RECORDS / "comfyui-0.33.0-batch-loaders.json").read_text())
    accepted = record["checks"]["LoadImage+BatchImagesNode"]["prompt"]
    (joiner,) = [n for n in accepted.values() if n["class_type"] == BATCH_IMAGES]
    prompt = workflow()
    expand(prompt, batch_input(prompt, "1"), [f"f{k}.png" for k in range(6)], lambda c: True)
    (ours,) = [n for n in prompt.values() if n["class_type"] == BATCH_IMAGES]
    assert sorted(ours["inputs"]) == sorted(joiner["inputs"])
