"""Variation names: `var01` everywhere, and the old `v01` still read (core/variation_names.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nuke_comfyui.core.variation_names import legacy_folder_names, parse_variation_name, variation_name


def test_names_read_back_in_both_spellings() -> None:
    assert [variation_name(i) for i in (0, 1, 99)] == ["var01", "var02", "var100"]
    assert variation_name(0, legacy=True) == "v01"
    for index in (0, 8, 120):
        assert parse_variation_name(variation_name(index)) == index
        assert parse_variation_name(variation_name(index, legacy=True)) == index
    for other in ("v1", "var0", "v00", "version01", "v01a", "", "var-1"):
        assert parse_variation_name(other) is None, other
    with pytest.raises(ValueError, match="0 or more"):
        variation_name(-1)


def test_legacy_folders_are_only_old_style_variation_folders(tmp_path: Path) -> None:
    assert legacy_folder_names(tmp_path / "missing") is False
    assert legacy_folder_names(tmp_path) is False
    (tmp_path / "v01").write_text("a file named like a folder is not one")
    assert legacy_folder_names(tmp_path) is False
    (tmp_path / "v02").mkdir()
    assert legacy_folder_names(tmp_path) is True
    (tmp_path / "var01").mkdir()
    assert legacy_folder_names(tmp_path) is False
