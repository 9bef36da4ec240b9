"""DurationBook: learned durations per server and workflow, borrowed across workflows only while fair."""

from __future__ import annotations

from nuke_comfyui.core.pool.durations import DurationBook
from nuke_comfyui.core.scheduler.plan import duration_key


def test_a_server_borrows_its_average_only_while_no_server_ran_the_workflow() -> None:
    book = DurationBook()
    for server in ("a", "b"):
        book.record(server, "frame", 0.05)  # both ran single frames of some workflow
    assert book.expected("a", "chunk") == book.expected("b", "chunk") == 0.05  # same footing for both
    book.record("b", "chunk", 0.8)
    # `a` never ran a chunk: it is unmeasured for chunks, not sixteen times faster than `b`
    assert book.expected("a", "chunk") is None
    assert book.expected_many(["a", "b"], "chunk") == [None, 0.8]
    assert book.expected_many(["a", "b"], "new") == [0.05, book.expected("b", "new")]
    assert book.floor("chunk") is not None and book.floor("chunk") <= 0.05  # still below every estimate


def test_a_chunked_render_learns_apart_from_the_same_workflow_frame_by_frame() -> None:
    template = '{"1": {"class_type": "LoadImage"}}'
    assert duration_key(template) != duration_key(template, 16) != duration_key(template, 8)
    assert duration_key(template, 1) == duration_key(template)
