"""Shared-storage path mapping across Windows drives, UNC shares and POSIX, with round-trip properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.errors import PathMappingError
from nuke_comfyui.core.paths import PathMapping, is_absolute, map_path, normalise

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


def test_normalise_and_is_absolute() -> None:
    assert normalise("u:\\Shots\\\\a.exr") == "U:/Shots/a.exr"
    assert normalise("U:") == normalise("u:/") == "U:/"
    assert normalise("//srv/share/x/") == "\\\\srv\\share\\x"
    assert normalise("/mnt//comfy/./in/") == "/mnt/comfy/in"
    assert all(is_absolute(p) for p in ("U:/", "\\\\srv\\share", "/"))
    assert not any(is_absolute(p) for p in ("", "shots", "~/comfy", "\\\\srv", "./a"))


def test_trailing_slashes_are_irrelevant_and_the_root_maps_to_the_root() -> None:
    for local, remote in (("U:/", "/c/"), ("U:", "/c"), ("U:\\", "/c//")):
        mapping = PathMapping(local, remote)
        assert mapping.to_remote("U:/a/") == "/c/a"
        assert mapping.to_remote("U:") == "/c"
        assert mapping.to_local("/c/") == "U:/"


def test_unc_prefixes_match_whole_components_and_windows_targets_get_native_style() -> None:
    mapping = PathMapping("\\\\srv\\share\\comfy", "/mnt/comfy")
    assert not mapping.contains_local("\\\\srv\\share\\comfy2\\a.png")
    assert not mapping.contains_local("\\\\srv\\share2\\comfy\\a.png")
    assert mapping.contains_local("//SRV/Share/COMFY/a.png")
    assert not mapping.contains_remote("/mnt/comfyx/a.png") and mapping.contains_remote("/mnt/comfy")
    windows_server = PathMapping("/Volumes/comfy", "D:\\ComfyUI")
    assert windows_server.to_remote("/Volumes/comfy/input/a.png") == "D:/ComfyUI/input/a.png"
    assert windows_server.to_local("d:\\comfyui\\output\\b.png") == "/Volumes/comfy/output/b.png"


def test_contains_is_false_for_relative_or_dotdot_paths_and_bad_roots_are_refused() -> None:
    assert not DRIVE.contains_local("shots/a.exr") and not DRIVE.contains_local("U:/a/../../b")
    with pytest.raises(PathMappingError, match=r"local folder 'comfy' .* not an absolute path"):
        PathMapping("comfy", "/c")
    with pytest.raises(PathMappingError, match="backslash"):
        PathMapping("/mnt/a", "Z:/render").to_remote("/mnt/a/odd\\name.png")


def test_map_path_is_case_insensitive_on_windows_and_says_when_nothing_is_configured() -> None:
    mappings = [PathMapping("U:/", "/a"), PathMapping("u:/Comfy/", "/b")]
    assert map_path("U:\\COMFY\\in\\x.png", mappings) == "/b/in/x.png"
    assert map_path("U:/Comfy2/x.png", mappings) == "/a/Comfy2/x.png"
    with pytest.raises(PathMappingError, match="none configured"):
        map_path("U:/x.png", [])


def spelled(root: str, rest: list, sep: str, trailing: bool) -> str:
    """`root` + `rest` written with `sep` (doubled at random positions is not needed: split drops empties)."""
    text = root.rstrip("/\\")
    if text.startswith("\\\\") or text.startswith("//"):
        text = text.replace("\\", sep).replace("/", sep)
    body = sep.join(rest)
    return text + sep + body + (sep if trailing and rest else "")


WINDOWS_SEPARATORS = st.sampled_from(["/", "\\"])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ROOTS), parts, WINDOWS_SEPARATORS, st.booleans())
def test_to_local_of_to_remote_is_the_normalised_path(roots: tuple, rest: list, sep: str, trailing: bool) -> None:
    local_root, remote_root = roots
    mapping = PathMapping(local_root, remote_root)
    windows_local = not local_root.startswith("/")
    local = spelled(local_root, rest, sep if windows_local else "/", trailing)
    assert mapping.to_local(mapping.to_remote(local)) == normalise(local)
    remote = mapping.to_remote(local)
    assert remote == normalise(remote)  # results are written in the target side's own style
    assert mapping.to_remote(mapping.to_local(remote)) == remote


@settings(max_examples=100, deadline=None)
@given(parts, st.data())
def test_windows_roots_match_in_any_case_and_either_separator(rest: list, data: st.DataObject) -> None:
    mapping = PathMapping("\\\\Srv\\Share\\Comfy", "/mnt/comfy")
    root = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in "//srv/share/comfy")
    sep = data.draw(WINDOWS_SEPARATORS)
    path = root.replace("/", sep) + sep + sep.join(rest)
    assert mapping.contains_local(path)
    assert mapping.to_remote(path) == "/mnt/comfy" + "".join("/" + p for p in rest)
