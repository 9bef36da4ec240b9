"""A chunk out of memory, sent again as smaller parts inside one prompt."""

from __future__ import annotations

from types import SimpleNamespace

from nuke_comfyui.core import chunk_split


def test_parts_halve_the_chunk_and_keep_the_overlap() -> None:
    frames = tuple(range(1, 82))  # an 81-frame chunk, overlap 8
    assert chunk_split.parts(frames, 8, "crossfade", 0) is None
    two = chunk_split.parts(frames, 8, "crossfade", 1)
    assert two is not None and [(p.frames[0], p.frames[-1]) for p in two.chunks] == [(1, 45), (38, 81)]
    four = chunk_split.parts(frames, 8, "crossfade", 2)
    assert four is not None and len(four) == 4 and max(len(p.frames) for p in four.chunks) == 27
    assert sorted({f for p in four.chunks for f in p.frames}) == list(frames)
    assert chunk_split.parts((1, 2, 3), 2, "cut", 1) is None  # a part could not bring a new frame


def test_the_split_level_is_the_count_of_out_of_memory_attempts() -> None:
    attempts = [SimpleNamespace(outcome=o) for o in ("out_of_memory", "lost", "out_of_memory", "dispatched")]
    assert chunk_split.split_level(attempts) == 2 and chunk_split.split_level(()) == 0


def test_only_the_nodes_that_depend_on_the_frames_are_copied() -> None:
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "a.png"}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m"}},
        "2": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["4", 2]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "x"}},
    }
    copied = chunk_split.duplicate(prompt, ["1"], 2)
    assert copied == {"1", "2", "3"}
    assert prompt["2_nkc_part1"]["inputs"] == {"pixels": ["1_nkc_part1", 0], "vae": ["4", 2]}  # the model is shared
    assert prompt["3_nkc_part1"]["inputs"]["images"] == ["2_nkc_part1", 0]
    assert "4_nkc_part1" not in prompt
    assert chunk_split.node_part("3_nkc_part1") == ("3", 1) and chunk_split.node_part("3") == ("3", 0)
