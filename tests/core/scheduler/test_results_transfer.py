"""Output naming/atomic collection and input staging (shared mapping vs deduplicated upload)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scheduler_fakes import OutputFile, ServerConfig

from nuke_comfyui.core.errors import PathMappingError, UnsafePathError
from nuke_comfyui.core.scheduler.results import OutputLayout, collect, group_folder, safe_label
from nuke_comfyui.core.scheduler.transfer import InputTransfer


def test_group_folder_is_claimed_per_group(tmp_path: Path) -> None:
    first = group_folder(str(tmp_path), "my shot", "abcdef0123" + "0" * 22)
    assert first.name == "my_shot_abcdef01"
    assert group_folder(str(tmp_path), "my shot", "abcdef0123" + "0" * 22) == first
    other = group_folder(str(tmp_path), "my shot", "abcdef01ff" + "0" * 22)  # same 8-char prefix
    assert other != first and other.name.endswith("abcdef01ff" + "0" * 22)


def test_names_and_patterns(tmp_path: Path) -> None:
    one = OutputLayout(tmp_path, "shot", ("9",))
    assert one.file_name(0, "9", 0, 1001, ".png") == "shot_var01.1001.png"
    assert one.file_name(2, "9", 1, 7, ".exr") == "shot_var03_1.0007.exr"
    assert one.file_name(0, "9", 0, None, ".png") == "shot_var01.png"
    two = OutputLayout(tmp_path, "shot", ("9", "12"))
    assert two.pattern(0, "12", ".png").endswith("/var01/shot_var01_12.%04d.png")
    assert safe_label("../../etc passwd") == "etc_passwd"


def test_a_group_folder_from_before_the_rename_keeps_its_v01_names(tmp_path: Path) -> None:
    """Frames of an old group (resumed, retried, a farm task re-run) land beside its first frames."""
    old = tmp_path / "shot_abcdef01"
    (old / "v01").mkdir(parents=True)
    (old / "v01" / "shot_v01.1001.png").write_bytes(b"old")
    layout = OutputLayout(old, "shot", ("9",))
    assert layout.legacy_names is True
    assert layout.pattern(1, "9", ".png") == str(old / "v02" / "shot_v02.%04d.png")
    new = tmp_path / "shot_12345678"
    (new / "var01").mkdir(parents=True)
    (new / "v01").mkdir()  # a user's own folder beside new-style ones changes nothing
    assert OutputLayout(new, "shot").variation_dir(0) == new / "var01"
    assert OutputLayout(tmp_path / "not_there_yet", "shot").variation_dir(2).name == "var03"


class _Client:
    def download(self, item, dest_dir: Path, dest_name: str) -> Path:
        target = Path(dest_dir) / dest_name
        target.write_bytes(item.filename.encode())
        return target


def test_collect_downloads_and_copies_shared(tmp_path: Path) -> None:
    layout = OutputLayout(tmp_path / "out", "shot", ("9",))
    items = [OutputFile("9", "images", "a_00001_.png", "", "output"),
             OutputFile("9", "images", "a_00002_.png", "", "output"),
             OutputFile("5", "images", "preview.png", "", "temp")]
    paths = collect(layout, variation=0, frame=12, outputs=items, client=_Client(), server=ServerConfig("s"))
    assert [Path(p).name for p in paths] == ["shot_var01.0012.png", "shot_var01_1.0012.png"]

    root = tmp_path / "comfy"
    (root / "output" / "sub").mkdir(parents=True)
    (root / "output" / "sub" / "x.png").write_bytes(b"pixels")
    shared = ServerConfig("s", transfer="shared", dir_local=str(root))
    got = collect(layout, variation=1, frame=3, outputs=[OutputFile("9", "images", "x.png", "sub", "output")],
                  client=None, server=shared, transfer="shared")
    assert Path(got[0]).read_bytes() == b"pixels" and Path(got[0]).name == "shot_var02.0003.png"
    assert not list(Path(got[0]).parent.glob(".part-*"))

    evil = OutputFile("9", "images", "../../secret.png", "", "output")
    with pytest.raises(UnsafePathError):
        collect(layout, variation=0, frame=1, outputs=[evil], client=None, server=shared, transfer="shared")


class _Uploader:
    def __init__(self) -> None:
        self.calls = []

    def upload_image(self, data: bytes, name: str, *, subfolder: str, kind: str, overwrite: bool):
        self.calls.append(name)

        class Uploaded:
            load_image_value = f"{subfolder}/{name} (1)"

        return Uploaded()


def test_upload_is_deduplicated_per_server_by_file_version(tmp_path: Path) -> None:
    """Known from a stat, before a byte is read: the same version goes to each server once; a copy
    with the same content is another file (its hash would only be known by reading it first)."""
    import os

    f1, f2, f3 = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    f1.write_bytes(b"same")
    f2.write_bytes(b"other")
    f3.write_bytes(b"same")
    transfer, client = InputTransfer(), _Uploader()
    s1, s2 = ServerConfig("s1"), ServerConfig("s2")
    value = transfer.image_value(str(f1), s1, client)
    assert value.endswith(" (1)")  # the server's returned name is what the prompt uses
    assert transfer.image_value(str(f1), s1, client) == value
    transfer.image_value(str(f1), s2, client)
    transfer.image_value(str(f2), s1, client)
    transfer.image_value(str(f3), s1, client)
    assert len(client.calls) == 4
    os.utime(f1, ns=(0, 1))  # rewritten: a new version, sent again under a name of its own
    transfer.image_value(str(f1), s1, client)
    assert len(client.calls) == 5 and client.calls[-1] != client.calls[0] and client.calls[-1].endswith("_a.png")


def test_shared_transfer_maps_or_stages(tmp_path: Path) -> None:
    root = tmp_path / "comfy"
    (root / "input" / "plates").mkdir(parents=True)
    inside = root / "input" / "plates" / "p.1001.png"
    inside.write_bytes(b"x")
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(b"y")
    server = ServerConfig("s", transfer="shared", dir_local=str(root))
    transfer = InputTransfer()
    assert transfer.image_value(str(inside), server, None) == "plates/p.1001.png"
    staged = transfer.image_value(str(outside), server, None)
    assert staged.startswith("nuke_comfyui/") and (root / "input" / staged).read_bytes() == b"y"
    with pytest.raises(PathMappingError):
        transfer.image_value(str(outside), ServerConfig("t", transfer="shared"), None)


def test_a_plate_gone_before_it_is_staged_is_named(tmp_path: Path) -> None:
    from nuke_comfyui.core.comfy.upload_body import PlateReadError

    missing = tmp_path / "plate.1001.exr"
    with pytest.raises(PlateReadError, match=r"cannot read .*plate.1001.exr \(No such file or directory\); check "
                                             r"that the file exists"):
        InputTransfer().image_value(str(missing), ServerConfig("s1"), _Uploader())
