"""FrameSet: Nuke's frame grammar, errors that point at the bad token, canonical text, chunks."""

from __future__ import annotations

from typing import List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuke_comfyui.core.errors import FrameSetError
from nuke_comfyui.core.frames import FrameSet


@pytest.mark.parametrize(("text", "frames"), [
    ("1001-1100", list(range(1001, 1101))),
    ("1-100x2", list(range(1, 101, 2))),
    ("1-10x4", [1, 5, 9]),
    ("1,5,10-20", [1, 5, *range(10, 21)]),
    ("  7  ", [7]),
    ("3 1,, 2 ,2", [1, 2, 3]),
    ("-10--8", [-10, -9, -8]),
    ("-2-2", [-2, -1, 0, 1, 2]),
    ("5-5", [5]),
    ("1-3\t10", [1, 2, 3, 10]),
])
def test_grammar(text: str, frames: List[int]) -> None:
    assert list(FrameSet.parse(text)) == frames


@pytest.mark.parametrize(("text", "token", "position"), [
    ("1-10,x5", "'x5'", 6),
    ("  1, a-3", "'a-3'", 6),
    ("1001-1100y2", "'1001-1100y2'", 1),
    ("1 2 3-", "'3-'", 5),
    ("1-10x0", "'1-10x0'", 1),
    ("1,10-1", "'10-1'", 3),
    ("1.5", "'1.5'", 1),
])
def test_errors_name_position_token_and_what_was_expected(text: str, token: str, position: int) -> None:
    with pytest.raises(FrameSetError) as caught:
        FrameSet.parse(text)
    message = str(caught.value)
    assert token in message and f"position {position}" in message
    assert "1001-1100" in message or "at least 1" in message or "write 1-10" in message


def test_backwards_range_suggests_the_fix() -> None:
    with pytest.raises(FrameSetError, match="write 1-10"):
        FrameSet.parse("10-1")


@pytest.mark.parametrize("text", ["", "   ", ", ,"])
def test_empty_text_is_an_error_with_examples(text: str) -> None:
    with pytest.raises(FrameSetError, match=r"empty; write e\.g\. 1001-1100"):
        FrameSet.parse(text)


def test_absurdly_long_range_is_refused() -> None:
    with pytest.raises(FrameSetError, match="has more than 50,000 frames, the most one render takes"):
        FrameSet.parse("0-99999999")


def test_ordered_deduplicated_and_immutable() -> None:
    frames = FrameSet([5, 1, 5, 3])
    assert frames.frames == (1, 3, 5)
    assert (frames.first, frames.last, len(frames)) == (1, 5, 3)
    assert 3 in frames and 4 not in frames
    assert frames == FrameSet.parse("1,3,5") and hash(frames) == hash(FrameSet.parse("1-5x2"))
    with pytest.raises(AttributeError):
        frames._frames = (9,)
    with pytest.raises(AttributeError):
        frames.extra = 1


@pytest.mark.parametrize(("text", "canonical"), [
    ("1001-1100", "1001-1100"),
    ("1,2,3,4", "1-4"),
    ("1-100x2", "1-99x2"),
    ("1,3", "1,3"),
    ("1,5,10-20", "1,5,10-20"),
    ("-3--1", "-3--1"),
])
def test_canonical_text(text: str, canonical: str) -> None:
    frames = FrameSet.parse(text)
    assert str(frames) == canonical
    assert repr(frames) == f"FrameSet.parse({canonical!r})"


def test_chunks_never_span_a_gap_and_keep_order() -> None:
    frames = FrameSet.parse("1-5,7,8,20")
    assert frames.chunks(2) == [(1, 2), (3, 4), (5,), (7, 8), (20,)]
    assert frames.chunks(100) == [(1, 2, 3, 4, 5), (7, 8), (20,)]
    with pytest.raises(FrameSetError, match="at least 1"):
        frames.chunks(0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-2000, 5000), min_size=1, max_size=80), st.integers(1, 9))
def test_round_trip_and_chunk_properties(frames: List[int], size: int) -> None:
    frame_set = FrameSet(frames)
    assert FrameSet.parse(str(frame_set)) == frame_set
    assert list(frame_set) == sorted(set(frames))
    chunks = frame_set.chunks(size)
    assert [f for chunk in chunks for f in chunk] == list(frame_set)
    assert all(1 <= len(c) <= size and list(c) == list(range(c[0], c[-1] + 1)) for c in chunks)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-500, 500), st.integers(0, 50), st.integers(1, 7)), min_size=1, max_size=8),
       st.sampled_from([",", " ", ", ", " , "]))
def test_written_ranges_parse_to_their_frames(ranges: List[tuple], separator: str) -> None:
    text = separator.join(f"{a}-{a + n}x{step}" for a, n, step in ranges)
    expected = sorted({f for a, n, step in ranges for f in range(a, a + n + 1, step)})
    assert list(FrameSet.parse(text)) == expected
