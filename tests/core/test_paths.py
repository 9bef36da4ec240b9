"""Shared-storage path mapping across Windows drives, UNC shares and POSIX, with round-trip properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.errors import PathMappingError
from nuke_comfyui.core.paths import PathMapping, map_path

DRIVE = PathMapping("U:/", "/home/user/ComfyUI/")


def test_drive_letters_either_separator_and_case() -> None:
    assert DRIVE.to_remote("U:/shots/a.exr") == "/home/user/ComfyUI/shots/a.exr"
    assert DRIVE.to_remote("u:\\shots\\a.exr") == "/home/user/ComfyUI/shots/a.exr"
    assert DRIVE.to_local("/home/user/ComfyUI/output/x_00001_.png") == "U:/output/x_00001_.png"


def test_unc_and_posix_to_posix() -> None:
    unc = PathMapping("\\\\fileserver\\comfy", "/mnt/comfy")
    assert unc.to_remote("\\\\FILESERVER\\Comfy\\input\\a.png") == "/mnt/comfy/input/a.png"
    assert unc.to_local("/mnt/comfy/output/b.png") == "\\\\fileserver\\comfy\\output\\b.png"
    posix = PathMapping("/Volumes/comfy/", "/data/ComfyUI")
    assert posix.to_remote("/Volumes/comfy/in/a.png") == "/data/ComfyUI/in/a.png"
    assert not posix.contains_local("/volumes/comfy/in/a.png")  # POSIX is case-sensitive


def test_prefix_must_match_whole_components() -> None:
    mapping = PathMapping("S:/shots", "/srv/shots")
    assert not mapping.contains_local("S:/shots2/a.png")
    with pytest.raises(PathMappingError, match="outside the local folder"):
        mapping.to_remote("S:/shots2/a.png")


def test_longest_prefix_wins_and_outside_lists_mappings() -> None:
    mappings = [PathMapping("P:/", "/proj"), PathMapping("P:/comfy", "/opt/ComfyUI")]
    assert map_path("P:/comfy/input/a.png", mappings) == "/opt/ComfyUI/input/a.png"
    assert map_path("P:/other/a.png", mappings) == "/proj/other/a.png"
    assert map_path("/opt/ComfyUI/output/x.png", mappings, to_remote=False) == "P:/comfy/output/x.png"
    with pytest.raises(PathMappingError) as caught:
        map_path("Q:/a.png", mappings)
    assert "P:/ <-> /proj" in str(caught.value) and "P:/comfy <-> /opt/ComfyUI" in str(caught.value)


def test_relative_paths_dotdot_and_missing_dirs_are_refused() -> None:
    with pytest.raises(PathMappingError, match="not absolute"):
        DRIVE.to_remote("shots/a.exr")
    with pytest.raises(PathMappingError, match=r"'\.\.'"):
        DRIVE.to_remote("U:/shots/../../etc/passwd")
    with pytest.raises(PathMappingError, match=r"gpu01.*dir_local"):
        PathMapping.for_server(ServerConfig(name="gpu01"))


names = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="_-. "),
                min_size=1, max_size=8).filter(lambda s: s.strip(" .") == s and s not in (".", ".."))
parts = st.lists(names, min_size=0, max_size=4)
ROOTS = [("U:/", "/home/user/ComfyUI"), ("\\\\srv\\share\\comfy", "/mnt/comfy"), ("/Volumes/c", "/data/c"),
         ("/mnt/a", "Z:/render")]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ROOTS), parts)
def test_round_trip_local_remote_local(roots: tuple, rest: list) -> None:
    local_root, remote_root = roots
    mapping = PathMapping(local_root, remote_root)
    sep = "\\" if local_root.startswith("\\\\") else "/"
    local = local_root.rstrip("/\\") + (sep + sep.join(rest) if rest else sep)
    remote = mapping.to_remote(local)
    assert mapping.contains_remote(remote)
    back = mapping.to_local(remote)
    assert mapping.to_remote(back) == remote
    assert back.replace("\\", "/").lower().rstrip("/") == local.replace("\\", "/").lower().rstrip("/")
