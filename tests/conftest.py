"""Shared test configuration: tests never touch the user's real config or data folders."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every per-user folder at a temporary one and clear the configuration variables."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("NUKE_COMFYUI_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("NUKE_COMFYUI_CONFIG", str(home / "config" / "servers.json"))
    import os

    for key in list(os.environ):
        if key.startswith("NUKE_COMFYUI_") and key not in ("NUKE_COMFYUI_DATA_DIR", "NUKE_COMFYUI_CONFIG"):
            monkeypatch.delenv(key)
