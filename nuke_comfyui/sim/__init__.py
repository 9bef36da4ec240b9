"""The ComfyUI-protocol simulator: the project's test bed, demo cluster and benchmark farm.

Only tests, the CLI and the benchmark import this package (it needs aiohttp and Pillow, which
Nuke's Python does not have). Start with `SimCluster` in `cluster.py`.
"""

from __future__ import annotations

from nuke_comfyui.sim.cluster import ServerHandle, SimCluster

__all__ = ["ServerHandle", "SimCluster"]
