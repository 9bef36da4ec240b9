"""Nuke-style sequence patterns: hashes and printf, one frame's path, and the frames on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.sequence_pattern import PatternError, SequencePattern


@pytest.mark.parametrize(("text", "prefix", "padding", "suffix"), [
    ("/plates/a.####.png", "/plates/a.", 4, ".png"),
    ("/plates/a.%04d.exr", "/plates/a.", 4, ".exr"),
    ("a_#.png", "a_", 1, ".png"),
    ("a_%d.png", "a_", 1, ".png"),
    ("/shots/#1/%05d/a.##.png", "/shots/#1/%05d/a.", 2, ".png"),  # folders may hold anything
])
def test_parse(text: str, prefix: str, padding: int, suffix: str) -> None:
    pattern = SequencePattern.parse(text)
    assert (pattern.prefix, pattern.padding, pattern.suffix) == (prefix, padding, suffix)


def test_paths_and_both_notations() -> None:
    pattern = SequencePattern.parse("/plates/a.####.png")
    assert pattern.path_for(1001) == "/plates/a.1001.png"
    assert pattern.path_for(7) == "/plates/a.0007.png"
    assert pattern.path_for(123456) == "/plates/a.123456.png"
    assert pattern.path_for(-5) == "/plates/a.-0005.png"
    assert pattern.to_printf() == "/plates/a.%04d.png"
    assert pattern.to_hashes() == "/plates/a.####.png"
    assert SequencePattern.parse(pattern.to_printf()) == pattern


@pytest.mark.parametrize(("text", "what"), [("/plates/a.png", "no"), ("a.##.%04d.png", "several"),
                                           ("a.##_##.png", "several")])
def test_placeholder_errors_show_an_example(text: str, what: str) -> None:
    with pytest.raises(PatternError, match=f"has {what} frame placeholder.*plate.####.png") as caught:
        SequencePattern.parse(text)
    assert isinstance(caught.value, NukeComfyError)


def test_existing_frames_finds_only_this_sequence(tmp_path: Path) -> None:
    for name in ("a.0001.png", "a.0003.png", "a.12345.png", "a.-0002.png",
                 "a.01.png", "a.0004.jpg", "b.0005.png", "a.0006.png.tmp"):
        (tmp_path / name).write_bytes(b"")
    pattern = SequencePattern.parse(str(tmp_path / "a.####.png"))
    assert pattern.existing_frames() == [-2, 1, 3, 12345]


def test_existing_frames_in_a_folder_with_glob_characters(tmp_path: Path) -> None:
    folder = tmp_path / "shot[1]"
    folder.mkdir()
    (folder / "a.0002.png").write_bytes(b"")
    assert SequencePattern.parse(str(folder / "a.%04d.png")).existing_frames() == [2]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8), st.integers(-10**6, 10**7), st.sampled_from(["hashes", "printf"]))
def test_path_for_round_trips_through_the_glob_pattern(padding: int, frame: int, style: str) -> None:
    text = "shot." + ("#" * padding if style == "hashes" else f"%0{padding}d") + ".png"
    pattern = SequencePattern.parse(text)
    path = pattern.path_for(frame)
    digits = path[len("shot."):-len(".png")].lstrip("-")
    assert int(path[len("shot."):-len(".png")]) == frame and len(digits) >= padding
    assert SequencePattern.parse(pattern.to_hashes()) == SequencePattern.parse(pattern.to_printf()) == pattern
