"""Frame sets, seeds, sequence patterns, workflows and render requests: the pure description of a render."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.errors import FrameSetError, WorkflowError
from nuke_comfyui.core.frames import FrameSet
from nuke_comfyui.core.render_request import RenderRequest, RequestError
from nuke_comfyui.core.seeds import MAX_SEED, SEED_STRATEGIES, seed_for, seeds
from nuke_comfyui.core.sequence_pattern import PatternError, SequencePattern

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# -- frames ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "frames"), [
    ("1001-1005", [1001, 1002, 1003, 1004, 1005]),
    ("1-10x3", [1, 4, 7, 10]),
    ("1,5,10-12", [1, 5, 10, 11, 12]),
    ("3 1 2 2", [1, 2, 3]),
    ("-3--1, 0", [-3, -2, -1, 0]),
])
def test_nuke_frame_grammar(text: str, frames: list) -> None:
    assert list(FrameSet.parse(text)) == frames


@pytest.mark.parametrize(("text", "token", "position"), [
    ("1-10,x5", "'x5'", 6), ("1001-1100y2", "'1001-1100y2'", 1), ("10-1", "'10-1'", 1)])
def test_frame_errors_point_at_the_bad_token(text: str, token: str, position: int) -> None:
    with pytest.raises(FrameSetError) as caught:
        FrameSet.parse(text)
    assert token in str(caught.value) and f"position {position}" in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-50, 3000), min_size=1, max_size=60))
def test_canonical_text_round_trips(frames: list) -> None:
    frame_set = FrameSet(frames)
    assert FrameSet.parse(str(frame_set)) == frame_set
    assert [f for chunk in frame_set.chunks(4) for f in chunk] == sorted(set(frames))
    assert all(len(chunk) <= 4 and list(chunk) == list(range(chunk[0], chunk[-1] + 1))
               for chunk in frame_set.chunks(4))


# -- seeds -----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SEED_STRATEGIES), st.one_of(st.just(0), st.just(MAX_SEED), st.integers(0, MAX_SEED)))
def test_seeds_are_distinct_in_range_and_deterministic(strategy: str, base: int) -> None:
    values = seeds(strategy, base, 2000)
    assert len(set(values)) == len(values)
    assert all(0 <= v <= MAX_SEED for v in values)
    assert values == seeds(strategy, base, 2000)
    if strategy != "random":
        assert values[0] == base


@settings(max_examples=40, deadline=None)
@given(st.integers(0, MAX_SEED))
def test_random_seeds_are_at_least_a_million_apart(base: int) -> None:
    ordered = sorted(seeds("random", base, 3000))
    assert min(b - a for a, b in zip(ordered, ordered[1:])) >= 1_000_000


def test_seed_formulas_and_errors() -> None:
    assert seeds("sequential", 41, 3) == [41, 42, 43]
    assert seeds("fibonacci", 10, 6) == [10, 11, 12, 14, 17, 22]
    assert seed_for("sequential", MAX_SEED, 1) == 0
    with pytest.raises(ValueError, match="unknown seed strategy"):
        seed_for("lucky", 0, 0)
    with pytest.raises(ValueError, match="base seed"):
        seed_for("random", -1, 0)


# -- patterns --------------------------------------------------------------------------------


def test_sequence_patterns(tmp_path: Path) -> None:
    hashes = SequencePattern.parse(str(tmp_path / "plate.####.png"))
    printf = SequencePattern.parse(str(tmp_path / "plate.%04d.png"))
    assert hashes == printf and hashes.path_for(7) == str(tmp_path / "plate.0007.png")
    assert hashes.to_printf().endswith("plate.%04d.png") and printf.to_hashes().endswith("plate.####.png")
    for frame in (1001, 1003):
        Path(hashes.path_for(frame)).write_bytes(b"x")
    assert hashes.existing_frames() == [1001, 1003]
    with pytest.raises(PatternError, match="no frame placeholder"):
        SequencePattern.parse("plate.png")


# -- workflows -------------------------------------------------------------------------------


def test_examples_load_and_name_their_nodes() -> None:
    img2img = wf.load_workflow(EXAMPLES / "img2img.json")
    assert wf.find_input_node(img2img) == "1" and wf.find_output_nodes(img2img) == ["9"]
    txt = wf.load_workflow(EXAMPLES / "txt2img_variations.json")
    assert wf.seed_inputs(txt) == [("3", "noise_seed")]
    assert {"KSamplerAdvanced", "SaveImage"} <= wf.class_types(txt)


def test_ui_format_and_ambiguity_are_clear_errors(tmp_path: Path) -> None:
    ui = tmp_path / "ui.json"
    ui.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(WorkflowError, match="Export \\(API\\)"):
        wf.load_workflow(ui)
    two = {"1": {"class_type": "LoadImage", "inputs": {}}, "2": {"class_type": "LoadImage", "inputs": {}},
           "3": {"class_type": "SaveImage", "inputs": {}}, "4": {"class_type": "SaveImage", "inputs": {}}}
    with pytest.raises(WorkflowError, match=r"1 \(LoadImage\), 2 \(LoadImage\).*Nuke Input"):
        wf.find_input_node(two)
    assert wf.find_output_nodes(two) == ["3", "4"]
    two["4"]["_meta"] = {"title": "Nuke Output"}
    two["2"]["_meta"] = {"title": "Nuke Input"}
    assert (wf.find_input_node(two), wf.find_output_nodes(two)) == ("2", ["4"])
    with pytest.raises(WorkflowError, match="no class_type"):
        wf.validate({"1": {"inputs": {}}})


def test_every_seed_like_literal_is_patched_links_are_not() -> None:
    workflow = {"1": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 4}},
                "2": {"class_type": "RandomNoise", "inputs": {"noise_seed": 2}},
                "3": {"class_type": "Custom", "inputs": {"detail_seed": 3, "seed": ["2", 0]}},
                "4": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x"}}}
    patched = wf.patch(workflow, seed=99, filename_prefix="job/7")
    assert [patched[i]["inputs"].get(k) for i, k in (("1", "seed"), ("2", "noise_seed"), ("3", "detail_seed"))] == [
        99, 99, 99]
    assert patched["3"]["inputs"]["seed"] == ["2", 0] and patched["4"]["inputs"]["filename_prefix"] == "job/7"
    assert workflow["1"]["inputs"]["seed"] == 1  # original untouched


# -- requests --------------------------------------------------------------------------------


def test_request_expands_frames_by_variations_with_one_seed_per_variation(tmp_path: Path) -> None:
    request = RenderRequest(workflow_path="w.json", output_dir=str(tmp_path), input_pattern="/p/plate.####.png",
                            frames="1001-1003", variations=2, seed_strategy="sequential", base_seed=5)
    specs = request.expand()
    assert [(s.frame, s.variation, s.seed) for s in specs] == [
        (1001, 0, 5), (1002, 0, 5), (1003, 0, 5), (1001, 1, 6), (1002, 1, 6), (1003, 1, 6)]
    assert specs[0].input_path == "/p/plate.1001.png"
    assert RenderRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize(("changes", "message"), [
    ({"input_pattern": "/p/a.####.png"}, "frame set"), ({"variations": 0}, "variations"),
    ({"seed_strategy": "lucky"}, "seed strategy"), ({"strategy": "quickest"}, "server strategy"),
    ({"transfer": "ftp"}, "transfer"), ({"frames": "1-x"}, "position")])
def test_request_validation(tmp_path: Path, changes: dict, message: str) -> None:
    request = RenderRequest(workflow_path="w.json", output_dir=str(tmp_path), **changes)
    with pytest.raises((RequestError, FrameSetError), match=message):
        request.validate()
