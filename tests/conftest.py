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


@pytest.fixture
def sim_cluster(tmp_path):  # type: ignore[no-untyped-def]
    """Factory: `sim_cluster(count=2, speeds=[1, 2], ...)` -> a started SimCluster, stopped at teardown.

    Each call gets its own base_dir under tmp_path, so every server has a fresh ComfyUI root.
    """
    from nuke_comfyui.sim.cluster import SimCluster

    started = []

    def make(count: int = 3, **options):  # type: ignore[no-untyped-def]
        base = tmp_path / f"sim{len(started)}"
        options.setdefault("seconds_per_step", 0.001)
        cluster = SimCluster(count, base_dir=base, **options).start()
        started.append(cluster)
        return cluster

    yield make
    for cluster in started:
        cluster.close()
