"""The per-user data folder per platform, and the NUKE_COMFYUI_DATA_DIR override."""

from __future__ import annotations

from pathlib import Path

import pytest

from nuke_comfyui.core import data_dir
from nuke_comfyui.core.journal import default_journal_path


def test_override_wins_on_every_platform() -> None:
    for platform in ("linux", "win32", "darwin"):
        env = {"NUKE_COMFYUI_DATA_DIR": "/studio/data/bob", "XDG_DATA_HOME": "/x", "LOCALAPPDATA": "C:/L"}
        assert data_dir.data_dir(env, platform) == Path("/studio/data/bob")


def test_override_expands_the_home_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_dir.data_dir({"NUKE_COMFYUI_DATA_DIR": "~/comfy"}) == tmp_path / "comfy"


def test_linux_uses_xdg_data_home_or_local_share() -> None:
    assert data_dir.data_dir({"XDG_DATA_HOME": "/xdg", "HOME": "/home/bob"}, "linux") == Path("/xdg/nuke-comfyui")
    assert data_dir.data_dir({"HOME": "/home/bob"}, "linux") == Path("/home/bob/.local/share/nuke-comfyui")
    # the XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored
    assert data_dir.data_dir({"XDG_DATA_HOME": "rel", "HOME": "/home/bob"}, "linux") == \
        Path("/home/bob/.local/share/nuke-comfyui")


def test_windows_uses_localappdata() -> None:
    assert data_dir.data_dir({"LOCALAPPDATA": "C:/Users/bob/AppData/Local"}, "win32") == \
        Path("C:/Users/bob/AppData/Local") / "nuke-comfyui"
    assert data_dir.data_dir({"USERPROFILE": "/users/bob"}, "win32") == Path("/users/bob/AppData/Local/nuke-comfyui")


def test_macos_uses_application_support() -> None:
    assert data_dir.data_dir({"HOME": "/Users/bob"}, "darwin") == \
        Path("/Users/bob/Library/Application Support/nuke-comfyui")


def test_journal_path_is_inside_the_data_folder_and_the_journal_uses_it(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert data_dir.journal_path({"NUKE_COMFYUI_DATA_DIR": "/d"}) == Path("/d/journal.sqlite")
    monkeypatch.setenv("NUKE_COMFYUI_DATA_DIR", str(tmp_path / "mine"))
    assert default_journal_path() == tmp_path / "mine" / "journal.sqlite"
    assert not (tmp_path / "mine").exists()  # asking for the path creates nothing
