"""The live server pool: health and load polling, status, and server selection."""

from nuke_comfyui.core.pool.pool import Placement, ServerPool, test_connection
from nuke_comfyui.core.pool.status import ServerState, ServerStatus
from nuke_comfyui.core.pool.strategies import STRATEGIES

__all__ = ["STRATEGIES", "Placement", "ServerPool", "ServerState", "ServerStatus", "test_connection"]
