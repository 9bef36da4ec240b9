"""The chunk plan of frame batches: chunks, overlaps, seam weights and what each chunk delivers."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuke_comfyui.core.chunk_plan import FINAL, SKIPPED, STAGED, ChunkPlan, ChunkPlanError, chunk_seed
from nuke_comfyui.core.render_request import RenderRequest, RequestError


def spans(plan: ChunkPlan) -> list:
    return [(c.frames[0], c.frames[-1]) for c in plan.chunks]


def test_twenty_frames_in_chunks_of_eight_with_overlap_two() -> None:
    plan = ChunkPlan(range(1, 21), 8, 2)
    assert spans(plan) == [(1, 8), (7, 14), (13, 20)]
    assert plan.shared_frames() == [7, 8, 13, 14]
    assert plan.rendered_frames() == 24 and plan.delivered_frames() == 20


def test_the_last_chunk_is_shorter_and_always_brings_a_new_frame() -> None:
    assert spans(ChunkPlan(range(1, 11), 4, 1)) == [(1, 4), (4, 7), (7, 10)]
    assert spans(ChunkPlan(range(1, 12), 4, 1)) == [(1, 4), (4, 7), (7, 10), (10, 11)]
    assert spans(ChunkPlan(range(1, 9), 4, 0)) == [(1, 4), (5, 8)]


def test_a_chunk_never_spans_a_gap_in_the_frame_set() -> None:
    plan = ChunkPlan([1, 2, 3, 4, 5, 10, 11, 12], 3, 1)
    assert spans(plan) == [(1, 3), (3, 5), (10, 12)]


def test_crossfade_weights_are_the_linear_ramp_over_the_shared_frames() -> None:
    plan = ChunkPlan(range(1, 21), 8, 2)
    # frames 7 and 8 are shared by chunk 0 (1-8) and chunk 1 (7-14): later chunk 1/3 then 2/3
    assert plan.weights(7) == [(0, Fraction(2, 3)), (1, Fraction(1, 3))]
    assert plan.weights(8) == [(0, Fraction(1, 3)), (1, Fraction(2, 3))]
    assert plan.weights(6) == [(0, Fraction(1))] and plan.weights(9) == [(1, Fraction(1))]
    wide = ChunkPlan(range(1, 30), 10, 4)
    assert [w for _, w in wide.weights(7)] == [Fraction(4, 5), Fraction(1, 5)]
    assert [w for _, w in wide.weights(10)] == [Fraction(1, 5), Fraction(4, 5)]


def test_cut_takes_the_later_chunk_whole() -> None:
    plan = ChunkPlan(range(1, 21), 8, 2, seam="cut")
    assert plan.weights(7) == [(1, Fraction(1))] and plan.weights(8) == [(1, Fraction(1))]
    assert plan.delivery(0, 7) == SKIPPED and plan.delivery(1, 7) == FINAL
    assert plan.shared_frames() == []


def test_what_each_chunk_delivers() -> None:
    plan = ChunkPlan(range(1, 21), 8, 2)
    assert [plan.delivery(0, f) for f in (1, 6, 7, 8)] == [FINAL, FINAL, STAGED, STAGED]
    assert [plan.delivery(1, f) for f in (7, 8, 9, 12, 13, 14)] == [STAGED, STAGED, FINAL, FINAL, STAGED, STAGED]


@settings(max_examples=200, deadline=None)
@given(frames=st.lists(st.integers(-20, 80), min_size=1, max_size=60, unique=True),
       size=st.integers(1, 12), overlap=st.integers(0, 11), seam=st.sampled_from(["crossfade", "cut"]))
def test_every_frame_is_delivered_exactly_once_with_weights_summing_to_one(frames: list, size: int, overlap: int,
                                                                           seam: str) -> None:
    if overlap >= size or size > len(frames):
        with pytest.raises(ChunkPlanError):
            ChunkPlan(frames, size, overlap, seam)
        return
    plan = ChunkPlan(frames, size, overlap, seam)
    assert sorted({f for c in plan.chunks for f in c.frames}) == sorted(frames)
    for frame in frames:
        weights = plan.weights(frame)
        assert sum(w for _, w in weights) == 1 and all(w > 0 for _, w in weights)
        finals = [c for c in plan.holders(frame) if plan.delivery(c, frame) == FINAL]
        staged = [c for c in plan.holders(frame) if plan.delivery(c, frame) == STAGED]
        assert (len(finals), len(staged) > 1) in ((1, False), (0, True))
    for chunk in plan.chunks:
        assert len(chunk.frames) <= size
        previous = plan.chunks[chunk.index - 1] if chunk.index else None
        if previous is not None and previous.frames[-1] + 1 >= chunk.frames[0]:  # same run
            assert chunk.frames[-1] > previous.frames[-1]  # a chunk always brings a new frame


@pytest.mark.parametrize(("size", "overlap", "seam", "message"), [
    (4, 4, "crossfade", "overlap 4 must be smaller than the chunk size 4"),
    (4, 9, "crossfade", "use an overlap of at most 3"),
    (40, 2, "crossfade", "chunk size 40 is larger than the shot (20 frames, 1-20)"),
    (0, 0, "crossfade", "chunk size must be a whole number"),
    (4, -1, "crossfade", "overlap must be a whole number"),
    (4, 1, "blend", "seam 'blend' is unknown; use crossfade or cut"),
])
def test_bad_chunking_is_named(size: int, overlap: int, seam: str, message: str) -> None:
    with pytest.raises(ChunkPlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ChunkPlan(range(1, 21), size, overlap, seam)


def test_per_chunk_seeds_are_stable_and_distinct() -> None:
    assert chunk_seed(1234, 0) == 1234
    seeds = [chunk_seed(1234, i) for i in range(200)]
    assert len(set(seeds)) == 200 and all(0 <= s < 2**63 for s in seeds)
    assert seeds == [chunk_seed(1234, i) for i in range(200)]


def _request(**changes: object) -> RenderRequest:
    values: dict = {"workflow_path": "/w/x.json", "output_dir": "/o", "input_pattern": "/p/a.####.png",
                    "frames": "1-20", "chunk_size": 8, "overlap": 2, "base_seed": 5, "variations": 2,
                    "seed_strategy": "sequential"}
    values.update(changes)
    return RenderRequest(**values)  # type: ignore[arg-type]


def test_a_request_expands_into_one_job_per_chunk_and_variation() -> None:
    specs = _request().expand()
    assert [(s.variation, s.frames[0], s.frames[-1], s.seed) for s in specs] == [
        (0, 1, 8, 5), (0, 7, 14, 5), (0, 13, 20, 5), (1, 1, 8, 6), (1, 7, 14, 6), (1, 13, 20, 6)]
    per_chunk = _request(chunk_seeds="per-chunk").expand()
    assert [s.seed for s in per_chunk[:3]] == [5, chunk_seed(5, 1), chunk_seed(5, 2)]
    assert RenderRequest.from_json(_request(seam="cut").to_json()).seam == "cut"


@pytest.mark.parametrize(("changes", "message"), [
    ({"overlap": 8}, "overlap 8 must be smaller than the chunk size 8"),
    ({"chunk_size": 30}, "chunk size 30 is larger than the shot"),
    ({"input_pattern": None}, "no input sequence was given"),
    ({"frames": None, "input_pattern": None}, "needs a frame set"),
    ({"seam": "wipe"}, "seam 'wipe' is unknown"),
    ({"chunk_seeds": "random"}, "chunk seeds 'random' is unknown"),
    ({"chunk_size": 1, "overlap": 1}, "overlap 1 must be smaller than the chunk size 1"),
])
def test_bad_frame_batch_requests_are_refused_before_anything_runs(changes: dict, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        _request(**changes).validate()


def test_the_too_many_jobs_advice_is_true_when_given() -> None:
    """The advice to use a larger chunk size is given only where it works (an input sequence to
    batch), and following it makes a render that plans every frame."""
    with pytest.raises(RequestError, match=r"split it into several renders or use a larger chunk size$"):
        _request(frames="1-20000", chunk_size=1, overlap=0, variations=1).validate()
    with pytest.raises(RequestError, match=r"split it into several renders$"):
        _request(frames="1-20000", chunk_size=1, overlap=0, variations=1, input_pattern=None).validate()
    followed = _request(frames="1-20000", chunk_size=2, overlap=0, variations=1)
    specs = followed.expand()
    assert len(specs) == 10_000 and sorted(f for s in specs for f in s.frames) == list(range(1, 20001))
