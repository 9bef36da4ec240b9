"""A session farm that knows its servers' `/object_info` and runs nothing.

For host tests of the workflow tab and the node's panel: they need what the servers offer (node
classes, combo options), never a render. One place, so each test names only the infos it differs by.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

from nuke_comfyui.host.session import HostSession, set_session

ROOT = Path(__file__).resolve().parents[2]
#: the simulator's /object_info, as one server "gpu1" offers it
SIM_INFO: Dict[str, Any] = json.loads((ROOT / "nuke_comfyui/sim/data/object_info.json").read_text())


class OfflinePool:
    """What the host reads of a pool: per-server object_info; no servers, no statuses."""

    def __init__(self, infos: Dict[str, Any]) -> None:
        self.infos = infos

    def object_infos(self) -> Dict[str, Any]:
        return dict(self.infos)

    def servers(self) -> List[Any]:
        return []

    def statuses(self) -> List[Any]:
        return []


class OfflineFarm:
    def __init__(self, infos: Dict[str, Any]) -> None:
        self.pool = OfflinePool(infos)

    def stop(self) -> None:
        pass


def offline_session(infos: Optional[Dict[str, Any]] = None) -> HostSession:
    """Install a session over an offline farm (default: one server, the simulator's classes)."""
    session = HostSession(OfflineFarm({"gpu1": SIM_INFO} if infos is None else infos))  # type: ignore[arg-type]
    set_session(session)
    return session
