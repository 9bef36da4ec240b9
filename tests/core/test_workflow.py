"""API-format workflows: loading, the Nuke input/output nodes, and per-job patching in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.errors import WorkflowError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
OBJECT_INFO = Path("/work/shared/comfyui-0.8-captures/00_object_info_subset.json")


def node(class_type: str, title: str = "", **inputs: Any) -> Dict[str, Any]:
    made: Dict[str, Any] = {"class_type": class_type, "inputs": inputs}
    if title:
        made["_meta"] = {"title": title}
    return made


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# -- loading ---------------------------------------------------------------------------------


def test_load_reads_api_format_and_unwraps_a_prompt_envelope(tmp_path: Path) -> None:
    graph = {"1": node("LoadImage", image="a.png"), "2": node("SaveImage", images=["1", 0])}
    assert wf.load_workflow(write(tmp_path, graph)) == graph
    assert wf.load_workflow(str(write(tmp_path, {"prompt": graph}))) == graph


def test_ui_format_points_at_export_api(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match=r"UI workflow.*no server answered.*Export \(API\)"):
        wf.load_workflow(write(tmp_path, {"nodes": [], "links": [], "version": 0.4}))


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ("[]", "Export \\(API\\) format"),
    ("{}", "Export \\(API\\) format"),
    ('{"1": {"inputs": {}}}', "node 1 has no class_type"),
    ('{"1": {"class_type": "X", "inputs": []}}', "node 1 \\(X\\) has inputs that are not an object"),
    ('{"1": {"class_type": "SaveImage", "inputs": {"images": ["9", 0]}}}', "'images' of node 1 .*links to node 9"),
])
def test_bad_files_are_named_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(WorkflowError, match=message):
        wf.load_workflow(path)


def test_missing_file_is_a_workflow_error(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match="cannot read workflow"):
        wf.load_workflow(tmp_path / "nope.json")


# -- input and output nodes ------------------------------------------------------------------


def test_input_is_the_only_loadimage_or_the_titled_node() -> None:
    assert wf.find_input_node({"5": node("LoadImage"), "6": node("SaveImage")}) == "5"
    graph = {"5": node("LoadImage"), "7": node("LoadImage", "Nuke Input"), "6": node("SaveImage")}
    assert wf.find_input_node(graph) == "7"


@pytest.mark.parametrize(("graph", "message"), [
    ({"1": node("SaveImage")}, "no LoadImage node"),
    ({"1": node("LoadImage", "plate"), "2": node("LoadImage")},
     r"several LoadImage nodes: 1 \(LoadImage, 'plate'\), 2"),
    ({"1": node("LoadImage", "Nuke Input"), "2": node("LoadImage", "Nuke Input")}, "several nodes are titled"),
])
def test_input_errors_name_the_nodes(graph: Dict[str, Any], message: str) -> None:
    with pytest.raises(WorkflowError, match=message):
        wf.find_input_node(graph)


def test_outputs_are_every_output_node_or_only_the_titled_one() -> None:
    graph = {"10": node("SaveImage"), "2": node("PreviewImage"), "3": node("SaveAnimatedWEBP"),
             "4": node("ImageInvert"), "5": node("SaveSomethingCustom")}
    assert wf.find_output_nodes(graph) == ["2", "3", "5", "10"]
    with_custom = {**graph, "6": node("MyWriter")}
    assert wf.find_output_nodes(with_custom, extra_outputs=["MyWriter"]) == ["2", "3", "5", "6", "10"]
    graph["3"] = node("SaveImage", "Nuke Output")
    assert wf.find_output_nodes(graph) == ["3"]


@pytest.mark.parametrize(("graph", "message"), [
    ({"1": node("LoadImage")}, "no output node"),
    ({"1": node("SaveImage", "Nuke Output"), "2": node("PreviewImage", "nuke output")},
     r"1 \(SaveImage.*2 \(PreviewImage"),
])
def test_output_errors_name_the_nodes(graph: Dict[str, Any], message: str) -> None:
    with pytest.raises(WorkflowError, match=message):
        wf.find_output_nodes(graph)


def test_class_types() -> None:
    assert wf.class_types({"1": node("LoadImage"), "2": node("SaveImage"), "3": node("SaveImage")}) == {
        "LoadImage", "SaveImage"}


# -- patching --------------------------------------------------------------------------------


def test_every_seed_like_literal_is_patched_in_place_links_and_others_are_not() -> None:
    prompt = {
        "1": node("KSampler", seed=1, steps=4),
        "2": node("KSamplerAdvanced", noise_seed=2),
        "3": node("RandomNoise", noise_seed=["9", 0]),
        "4": node("CustomSampler", variation_seed=3, seed_behavior="fixed", seedless=5),
        "9": node("Seed", value=7),
        "5": node("Flag", seed=True),
    }
    assert wf.seed_inputs(prompt) == [("1", "seed"), ("2", "noise_seed"), ("4", "variation_seed")]
    assert wf.patch_seeds(prompt, 99) == 3
    assert prompt["1"]["inputs"] == {"seed": 99, "steps": 4}
    assert prompt["2"]["inputs"]["noise_seed"] == 99 and prompt["4"]["inputs"]["variation_seed"] == 99
    assert prompt["3"]["inputs"]["noise_seed"] == ["9", 0]
    assert prompt["4"]["inputs"]["seed_behavior"] == "fixed" and prompt["5"]["inputs"]["seed"] is True


def test_patch_image_and_filename_prefix_in_place() -> None:
    prompt = {"1": node("LoadImage", image="x.png"), "2": node("SaveImage", filename_prefix="a"),
              "3": node("PreviewImage", images=["1", 0]), "4": node("SaveLatent")}
    wf.patch_image(prompt, "1", "nkc/in_0001.png [input]")
    assert prompt["1"]["inputs"]["image"] == "nkc/in_0001.png [input]"
    wf.patch_filename_prefix(prompt, "nkc_g_00001_a1", ["2", "3", "4"])
    assert prompt["2"]["inputs"]["filename_prefix"] == "nkc_g_00001_a1"
    assert prompt["4"]["inputs"]["filename_prefix"] == "nkc_g_00001_a1"
    assert "filename_prefix" not in prompt["3"]["inputs"]  # PreviewImage has no such input
    with pytest.raises(WorkflowError, match="input node 8"):
        wf.patch_image(prompt, "8", "x.png")


def test_patch_returns_a_copy_and_leaves_the_template_alone() -> None:
    template = {"1": node("LoadImage", image="x.png"), "2": node("KSampler", seed=0),
                "3": node("SaveImage", filename_prefix="a")}
    before = json.dumps(template, sort_keys=True)
    patched = wf.patch(template, seed=5, image="in.png", filename_prefix="p")
    assert json.dumps(template, sort_keys=True) == before
    assert (patched["2"]["inputs"]["seed"], patched["1"]["inputs"]["image"],
            patched["3"]["inputs"]["filename_prefix"]) == (5, "in.png", "p")


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,6}(_seed)?", fullmatch=True),
                       st.one_of(st.integers(0, 2**63 - 1), st.text(max_size=3), st.booleans()), max_size=6),
       st.integers(0, 2**63 - 1))
def test_patch_seeds_touches_exactly_the_seed_like_ints(inputs: Dict[str, Any], seed: int) -> None:
    prompt: Dict[str, Dict[str, Any]] = {"1": {"class_type": "Any", "inputs": dict(inputs)}}
    wf.patch_seeds(prompt, seed)
    for name, value in inputs.items():
        literal_int = isinstance(value, int) and not isinstance(value, bool)
        seed_like = (name == "seed" or name.endswith("_seed")) and literal_int
        assert prompt["1"]["inputs"][name] == (seed if seed_like else value)


# -- bundled examples ------------------------------------------------------------------------


def test_examples_exist_and_name_their_nodes() -> None:
    names = {path.stem: wf.load_workflow(path) for path in EXAMPLES}
    assert set(names) >= {"invert", "img2img", "txt2img_variations"}
    invert, img2img, txt2img = names["invert"], names["img2img"], names["txt2img_variations"]
    assert [invert[i]["class_type"] for i in sorted(invert)] == ["LoadImage", "ImageInvert", "SaveImage"]
    assert wf.title(img2img[wf.find_input_node(img2img)]) == "Nuke Input"
    assert [wf.title(img2img[i]) for i in wf.find_output_nodes(img2img)] == ["Nuke Output"]
    assert wf.seed_inputs(img2img) == [("3", "seed")]
    sampler = img2img["3"]["inputs"]
    assert (sampler["steps"], sampler["denoise"]) == (4, 0.6)
    assert any(n["inputs"].get("ckpt_name") == "sim-model.safetensors" for n in img2img.values())
    assert "CLIPTextEncode" in wf.class_types(img2img)
    assert wf.seed_inputs(txt2img) == [("3", "noise_seed")]
    latent = next(n for n in txt2img.values() if n["class_type"] == "EmptyLatentImage")["inputs"]
    assert (latent["width"], latent["height"]) == (64, 64)
    with pytest.raises(WorkflowError):
        wf.find_input_node(txt2img)


@pytest.mark.skipif(not OBJECT_INFO.exists(), reason="recorded ComfyUI object_info not available")
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_use_comfyuis_exact_input_names(path: Path) -> None:
    """Checked against object_info recorded from a real ComfyUI 0.8: no invented or missing inputs."""
    info = json.loads(OBJECT_INFO.read_text(encoding="utf-8"))
    for node_id, entry in wf.load_workflow(path).items():
        spec = info[entry["class_type"]]["input"]
        known = {**spec.get("required", {}), **spec.get("optional", {})}
        assert set(entry["inputs"]) <= set(known), (node_id, set(entry["inputs"]) - set(known))
        assert set(spec.get("required", {})) <= set(entry["inputs"]), (node_id, entry["class_type"])
