"""RenderRequest: validation with named fields, JSON round trip, expansion into per-job specs."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nuke_comfyui.core.errors import FrameSetError
from nuke_comfyui.core.render_request import JobSpec, RenderRequest, RequestError
from nuke_comfyui.core.seeds import MAX_SEED, MAX_VARIATIONS, SEED_STRATEGIES, seed_for
from nuke_comfyui.core.sequence_pattern import PatternError


def request(**changes: Any) -> RenderRequest:
    values: Dict[str, Any] = {"workflow_path": "/w/img2img.json", "output_dir": "/out"}
    values.update(changes)
    return RenderRequest(**values)


def test_field_names_and_defaults_match_the_architecture() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(RenderRequest)}
    assert list(fields) == ["workflow_path", "output_dir", "input_pattern", "frames", "variations",
                            "seed_strategy", "base_seed", "strategy", "servers", "transfer", "timeout",
                            "job_type", "chunk_size", "label", "values", "frame_values", "images",
                            "overlap", "seam", "chunk_seeds", "split_on_oom", "dynamic_prompts", "pixels"]
    assert (fields["variations"], fields["seed_strategy"], fields["base_seed"], fields["chunk_size"]) == (
        1, "random", None, 1)
    assert (fields["overlap"], fields["seam"], fields["chunk_seeds"], fields["split_on_oom"]) == (
        0, "crossfade", "same", False)


def test_frames_times_variations_one_seed_per_variation() -> None:
    specs = request(input_pattern="/p/plate.%04d.png", frames="1001-1002,1010", variations=3,
                    seed_strategy="golden", base_seed=77).expand()
    assert [(s.frame, s.variation) for s in specs] == [
        (f, v) for v in range(3) for f in (1001, 1002, 1010)]
    for spec in specs:
        assert spec.seed == seed_for("golden", 77, spec.variation)
        assert spec.input_path == f"/p/plate.{spec.frame:04d}.png"
        assert spec.depends_on == () and spec.frames == (spec.frame,)
    assert [s.index for s in specs] == list(range(9))


def test_variations_without_frames_are_one_job_each() -> None:
    specs = request(variations=4, seed_strategy="sequential", base_seed=10).expand()
    assert [(s.frame, s.variation, s.seed, s.input_path, s.frames) for s in specs] == [
        (None, v, 10 + v, None, ()) for v in range(4)]


def test_chunks_carry_their_frames_and_the_first_frames_input() -> None:
    specs = request(input_pattern="/p/a.####.png", frames="1-5", chunk_size=2).expand()
    assert [(s.frame, s.frames, s.input_path) for s in specs] == [
        (1, (1, 2), "/p/a.0001.png"), (3, (3, 4), "/p/a.0003.png"), (5, (5,), "/p/a.0005.png")]


def test_job_specs_are_small_frozen_and_slotted() -> None:
    spec = request(variations=1).expand()[0]
    assert isinstance(spec, JobSpec) and not hasattr(spec, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 1  # type: ignore[misc]


def test_expansion_is_deterministic_so_resume_rebuilds_the_same_jobs() -> None:
    made = request(input_pattern="/p/a.####.png", frames="1-20x3", variations=3)
    again = RenderRequest.from_json(made.to_json())
    assert again == made and again.expand() == made.expand()


@settings(max_examples=60, deadline=None)
@given(st.builds(
    RenderRequest,
    workflow_path=st.text(min_size=1, max_size=20), output_dir=st.text(min_size=1, max_size=20),
    input_pattern=st.one_of(st.none(), st.just("/in/plate.####.png")),
    frames=st.just("1001-1010x3"), variations=st.integers(1, 40),
    seed_strategy=st.sampled_from(SEED_STRATEGIES), base_seed=st.integers(0, MAX_SEED),
    strategy=st.one_of(st.none(), st.sampled_from(["fastest", "priority"])),
    servers=st.one_of(st.none(), st.lists(st.text(max_size=8), max_size=3)),
    transfer=st.one_of(st.none(), st.sampled_from(["shared", "upload"])),
    timeout=st.one_of(st.none(), st.floats(0.5, 1e4)), job_type=st.one_of(st.none(), st.text(max_size=8)),
    chunk_size=st.integers(1, 4), label=st.text(max_size=20)))
def test_json_round_trip_and_distinct_variation_seeds(made: RenderRequest) -> None:
    assume(made.chunk_size == 1 or made.input_pattern)  # a frame batch needs an input sequence
    assert RenderRequest.from_json(made.to_json()) == made
    specs = made.expand()
    by_variation = {s.variation: s.seed for s in specs}
    assert len(by_variation) == made.variations == len(set(by_variation.values()))
    assert all(by_variation[s.variation] == s.seed for s in specs)


@pytest.mark.parametrize(("changes", "error", "message"), [
    ({"workflow_path": ""}, RequestError, "no workflow file"),
    ({"output_dir": ""}, RequestError, "no output folder"),
    ({"input_pattern": "/p/a.####.png"}, RequestError, "needs a frame set"),
    ({"input_pattern": "/p/a.png", "frames": "1-3"}, PatternError, "no frame placeholder"),
    ({"frames": "1-3,oops"}, FrameSetError, "'oops' at position 5"),
    ({"variations": 0}, RequestError, "between 1 and"),
    ({"variations": MAX_VARIATIONS + 1}, RequestError, "between 1 and"),
    ({"variations": "4"}, RequestError, "variations must be a number"),
    ({"base_seed": -1}, RequestError, "base seed -1"),
    ({"base_seed": MAX_SEED + 1}, RequestError, "base seed"),
    ({"seed_strategy": "lucky"}, RequestError, "use one of random, sequential, fibonacci, golden"),
    ({"strategy": "quickest"}, RequestError, "server strategy 'quickest'"),
    ({"transfer": "ftp"}, RequestError, "'shared' or 'upload'"),
    ({"chunk_size": 0}, RequestError, "chunk size"),
    ({"timeout": 0}, RequestError, "positive number of seconds"),
    ({"timeout": True}, RequestError, "timeout must be a number"),
    ({"servers": ["a", 3]}, RequestError, "list of server names"),
])
def test_validation_names_the_field_and_the_fix(changes: Dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        request(**changes).validate()
    with pytest.raises(error):
        request(**changes).expand()


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not JSON"), ("[1]", "not a JSON object"),
    (json.dumps({"workflow_path": "w", "output_dir": "o", "colour": 1}), r"unknown fields \['colour'\]"),
])
def test_from_json_errors(text: str, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        RenderRequest.from_json(text)


def test_describe_is_one_based_for_people() -> None:
    frame_spec, plain = request(frames="1001", variations=2).expand()[1], request().expand()[0]
    assert RenderRequest.describe(frame_spec) == "frame 1001 var02"
    assert RenderRequest.describe(plain) == "var01"


def test_several_variations_without_a_base_seed_draw_one_per_group() -> None:
    """"Twelve more variations" are twelve new images: each group draws its base seed (from its
    random id), and the drawn seed is kept in the request the group journals."""
    from nuke_comfyui.core.seeds import DRAWN_SEED_LIMIT, base_seed_for_group

    asked = request(variations=12)
    first, second = asked.with_group_seed("a" * 32), asked.with_group_seed("b" * 32)
    assert asked.base_seed is None  # the caller's request is not changed
    assert first.base_seed == base_seed_for_group("a" * 32) and 0 <= first.base_seed < DRAWN_SEED_LIMIT
    assert first.base_seed != second.base_seed
    assert {s.seed for s in first.expand()}.isdisjoint({s.seed for s in second.expand()})
    assert asked.with_group_seed("a" * 32) == first  # one group, one base seed (farm tasks agree)
    assert RenderRequest.from_json(first.to_json()).base_seed == first.base_seed
    given_seed = request(variations=12, base_seed=5)
    assert given_seed.with_group_seed("a" * 32) is given_seed
    one = request(variations=1)
    assert one.with_group_seed("a" * 32) is one and one.keeps_workflow_seed()  # one image: the workflow's seed
