"""Output discovery and the filename sanitiser (a server's names never escape our folder)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from comfykit import capture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nuke_comfyui.core.comfy.outputs import (
    failure_from_messages,
    iter_output_files,
    safe_join,
    safe_parts,
    write_atomically,
)
from nuke_comfyui.core.comfy.types import OutputFile
from nuke_comfyui.core.errors import UnsafePathError


def test_walks_every_node_and_key_and_skips_non_files() -> None:
    outputs = capture("12_text_frame_and_nonimage_outputs.json")["history_outputs"]
    outputs = dict(outputs, **{"9": {"gifs": [{"filename": "a.mp4", "subfolder": "", "type": "output"}],
                                     "audio": [{"filename": "b.flac", "subfolder": "s", "type": "temp"}],
                                     "animated": [True], "bogus": "x"}})
    files = list(iter_output_files(outputs))
    assert OutputFile("4", "images", "anim_00001_.webp", "acc", "output") in files
    assert OutputFile("9", "gifs", "a.mp4", "", "output") in files
    assert OutputFile("9", "audio", "b.flac", "s", "temp") in files
    assert len(files) == 3  # the text output "1536" and the flags are not files


@pytest.mark.parametrize("garbage", [None, [], "x", {"1": []},
                                     {"1": {"images": [None, 3, {"subfolder": "x"}]}}])
def test_garbage_outputs_yield_nothing(garbage: object) -> None:
    assert list(iter_output_files(garbage)) == []


def test_failure_from_history_messages() -> None:
    ws = capture("06_07_queue_busy_interrupt.json")["ws"]
    error = next(m["msg"]["data"] for m in ws
                 if m.get("kind") == "text" and m["msg"]["type"] == "execution_error")
    failure = failure_from_messages([["execution_start", {}], ["execution_error", error]])
    assert failure is not None and not failure.interrupted
    where = (failure.node_id, failure.node_type, failure.exception_type)
    assert where == ("1", "LoadImage", "FileNotFoundError")
    assert "No such file" in failure.message
    assert failure_from_messages([["execution_success", {}]]) is None
    assert failure_from_messages("nonsense") is None


@pytest.mark.parametrize("subfolder,filename", [
    ("..", "x.png"), ("a/../..", "x.png"), ("/etc", "passwd"), ("\\\\host\\share", "x.png"),
    ("C:\\Windows", "x.png"), ("", "C:x.png"), ("", "../x.png"), ("", "a/b.png"), ("", "..\\x.png"),
    ("", "x\x00.png"), ("a\nb", "x.png"), ("", ""), ("", ".."), ("", "."), ("", "   "),
])
def test_hostile_names_are_refused(tmp_path: Path, subfolder: str, filename: str) -> None:
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path, subfolder, filename)
    with pytest.raises(UnsafePathError):  # the names-only check (results.checked_name) refuses the same
        safe_parts(subfolder, filename)


def test_the_names_only_check_gives_the_parts_safe_join_joins(tmp_path: Path) -> None:
    for subfolder, filename in (("acc", "tiny_00001_.png"), ("a\\b", "x.png"), ("./a//", "x.png"), ("nul", "CON.png")):
        assert tmp_path.joinpath(*safe_parts(subfolder, filename)) == safe_join(tmp_path, subfolder, filename)


def test_harmless_names_are_kept_or_neutralised(tmp_path: Path) -> None:
    assert safe_join(tmp_path, "acc", "tiny_00001_.png") == tmp_path / "acc" / "tiny_00001_.png"
    assert safe_join(tmp_path, "a\\b", "x.png") == tmp_path / "a" / "b" / "x.png"  # Windows separators
    assert safe_join(tmp_path, "./a//", "x.png") == tmp_path / "a" / "x.png"
    assert safe_join(tmp_path, "", "CON.png") == tmp_path / "_CON.png"
    assert safe_join(tmp_path, "nul", "x.png") == tmp_path / "_nul" / "x.png"
    assert safe_join(tmp_path, "", "x.png. ") == tmp_path / "x.png"


def test_symlinked_subfolder_cannot_escape(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(UnsafePathError):
        safe_join(root, "link", "x.png")


def test_symlinks_are_resolved_part_by_part(tmp_path: Path) -> None:
    """A link as the file name leads out too; a link that stays inside, or a linked root, is fine."""
    real, outside = tmp_path / "real", tmp_path / "outside"
    (real / "a" / "b").mkdir(parents=True)
    outside.mkdir()
    os.symlink(outside / "x.png", real / "x.png")
    with pytest.raises(UnsafePathError):
        safe_join(real, "", "x.png")
    os.symlink(real / "a" / "b", real / "inner")
    os.symlink(tmp_path / "real" / "a" / ".." / ".." / "outside", real / "a" / "up")
    assert safe_join(real, "inner", "y.png") == real / "inner" / "y.png"
    with pytest.raises(UnsafePathError):
        safe_join(real, "a/up", "y.png")
    linked_root = tmp_path / "linked"
    os.symlink(real, linked_root)
    assert safe_join(linked_root, "a", "y.png") == linked_root / "a" / "y.png"
    with pytest.raises(UnsafePathError):
        safe_join(linked_root, "a/up", "y.png")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subfolder=st.text(max_size=30), filename=st.text(max_size=30))
def test_written_path_is_always_inside_dest(tmp_path: Path, subfolder: str, filename: str) -> None:
    dest = Path(tempfile.mkdtemp(dir=tmp_path)) / "dest"  # fresh per example
    try:
        target = safe_join(dest, subfolder, filename)
    except UnsafePathError:
        return
    real_dest = os.path.realpath(dest)
    real_target = os.path.realpath(target)
    assert os.path.commonpath([real_dest, real_target]) == real_dest and real_target != real_dest
    write_atomically(target, [b"x"])
    assert target.read_bytes() == b"x"


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.sampled_from(["..", ".", "a", "/", "\\", "C:", "\x00", "CON", "b.png", " "]),
                      max_size=8))
def test_hostile_fragments_never_escape(parts: list) -> None:
    root = Path("/nonexistent-root/dest")
    text = "".join(parts)
    for subfolder, filename in ((text, "x.png"), ("", text), (text, text)):
        try:
            target = safe_join(root, subfolder, filename)
        except UnsafePathError:
            continue
        assert os.path.commonpath([str(root), os.path.normpath(str(target))]) == str(root)
        assert ".." not in target.relative_to(root).parts


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b"half"
        raise OSError("connection reset")

    target = tmp_path / "out" / "x.png"
    with pytest.raises(OSError):
        write_atomically(target, chunks())
    assert list((tmp_path / "out").iterdir()) == []
    target.write_bytes(b"old")
    with pytest.raises(OSError):
        write_atomically(target, chunks())
    assert target.read_bytes() == b"old"
