"""Animated inputs a frame-batch render cannot follow: a chunk is one prompt with one value per input."""

from __future__ import annotations

from nuke_comfyui.core.chunk_plan import ChunkPlan
from nuke_comfyui.core.chunk_values import held_in_request, held_per_chunk
from nuke_comfyui.core.render_request import RenderRequest


def test_an_input_keyed_inside_a_chunk_is_named_once_with_its_chunk() -> None:
    plan = ChunkPlan(range(1, 21), 8, 2)  # chunks 1-8, 7-14, 13-20
    sigma = {str(f): (1.0 if f < 10 else 2.0) for f in range(1, 21)}  # keyed at 10: inside chunk 7-14
    (note,) = held_per_chunk(plan, {"2.sigma": sigma})
    assert note.startswith("input 2.sigma is animated within chunk 7-14 (from 1.0 to 2.0)")
    assert "each chunk sends its value at its first frame" in note


def test_values_constant_within_every_chunk_say_nothing() -> None:
    plan = ChunkPlan(range(1, 21), 8, 2)
    per_chunk = {str(f): ("a" if f <= 8 else "b") for f in range(1, 21)}  # changes at 9: but 7-14 holds 7, 8
    assert held_per_chunk(plan, {"6.text": per_chunk})  # 7-14 sees "a" then "b"
    steady = {str(f): "same" for f in range(1, 21)}
    assert held_per_chunk(plan, {"6.text": steady}) == []
    assert held_per_chunk(ChunkPlan(range(1, 9), 4, 0), {"6.text": {str(f): "a" if f <= 4 else "b"
                                                                  for f in range(1, 9)}}) == []


def test_per_frame_renders_and_unplannable_requests_say_nothing(tmp_path) -> None:
    animated = {"2.sigma": {"1": 1.0, "2": 2.0}}
    assert held_per_chunk(None, animated) == []
    per_frame = RenderRequest(workflow_path="w.json", output_dir=str(tmp_path), frames="1-2", frame_values=animated)
    assert held_in_request(per_frame) == []
    bad = RenderRequest(workflow_path="w.json", output_dir=str(tmp_path), frames="1-2", chunk_size=2, overlap=5,
                        input_pattern=str(tmp_path / "p.####.png"), frame_values=animated)
    assert held_in_request(bad) == []  # its validation names the overlap; this stays quiet
    chunked = RenderRequest(workflow_path="w.json", output_dir=str(tmp_path), frames="1-2", chunk_size=2,
                            input_pattern=str(tmp_path / "p.####.png"), frame_values=animated)
    assert [note[:40] for note in held_in_request(chunked)] == ["input 2.sigma is animated within chunk 1"]
