"""One Farm (server pool + scheduler + journal) per Nuke process, started on first use.

The farm is created lazily so Nuke starts without touching the network, and one object owns
it (instead of loose module globals) so tests and `nuke -t` can replace or stop it cleanly.
It also keeps the watcher of each node, so rendering a node again replaces the old watcher.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Dict, List, Optional

import nuke

from nuke_comfyui.host.watch import Apply, GroupWatcher

if TYPE_CHECKING:
    from nuke_comfyui.core.config_loader import LoadedConfig
    from nuke_comfyui.core.farm import Farm

log = logging.getLogger(__name__)


class HostSession:
    """The farm used by this Nuke process and the watchers following its nodes."""

    def __init__(self, farm: Farm, loaded: Optional[LoadedConfig] = None) -> None:
        self.farm = farm
        self.loaded = loaded  # the configuration the farm was built from (the Settings pane edits it)
        self.started = time.monotonic()  # when its pool began probing (a silent farm is judged from then)
        self._watchers: Dict[str, GroupWatcher] = {}

    @classmethod
    def from_config(cls) -> HostSession:
        """Load the server settings (file + environment) and start a farm on them."""
        check_pydantic()
        from nuke_comfyui.blend import PixelBlender
        from nuke_comfyui.core.comfy.preview_method import WHEN_WATCHED
        from nuke_comfyui.core.config_loader import load_config
        from nuke_comfyui.core.farm import Farm

        loaded = load_config()
        # frame-batch seams as the CLI blends them; live previews only where a panel shows them:
        # `nuke -t` (no GUI) asks the servers for none, a GUI session only while a Results panel looks
        farm = Farm.from_config(loaded, blender=PixelBlender(), previews=WHEN_WATCHED if gui_session() else False)
        farm.start()
        log.info("nuke-comfyui: farm started with %d server(s)", len(loaded.cluster.servers))
        return cls(farm, loaded)

    def watch(self, node_name: str, group_id: str, apply: Apply) -> GroupWatcher:
        """Follow group_id for node_name (replacing whatever that node followed before)."""
        self.unwatch(node_name)
        watcher = GroupWatcher(self.farm.scheduler, node_name, group_id, apply)
        watcher.start()
        self._watchers[node_name] = watcher
        return watcher

    def unwatch(self, node_name: str) -> None:
        old = self._watchers.pop(node_name, None)
        if old is not None:
            old.stop()

    def stop(self) -> None:
        for name in list(self._watchers):
            self.unwatch(name)
        self.farm.stop()


def gui_session() -> bool:
    """Whether this Nuke has a GUI (`nuke.GUI`; False in `nuke -t` and on a render farm), so that a
    Results panel may show live previews of its renders at some point."""
    return bool(nuke.GUI)


def check_pydantic() -> None:
    """pydantic 2 is what Nuke imports, else a NukeComfyError naming the copy in the way and the fix.

    init.py appends the plugin's deps folder to sys.path (host.startup), so a pydantic that another
    NUKE_PATH package or Nuke's own site-packages provides comes first; a 1.x there would break the
    settings models with an obscure ImportError.
    """
    import os

    from nuke_comfyui.core.errors import NukeComfyError

    try:
        import pydantic
    except ImportError:
        raise NukeComfyError("pydantic is not importable in Nuke's Python; run: nuke-comfyui install-deps "
                             "--nuke /path/to/Nuke (docs/NUKE.md, section 1)") from None
    version = str(getattr(pydantic, "VERSION", "0"))
    if not version.startswith("2."):
        where = os.path.dirname(str(getattr(pydantic, "__file__", "") or "?"))
        raise NukeComfyError(f"Nuke imports pydantic {version} from {where}, which comes before the plugin's deps "
                             "folder on sys.path; the plugin needs pydantic 2: remove that copy from the path, or "
                             "run nuke-comfyui install-deps and put the plugin's deps folder before it")


class _Holder:
    """The process's session (a list so it can be replaced without a `global` statement)."""

    sessions: List[HostSession] = []


def get_session() -> HostSession:
    """The running session, creating and starting it from the configuration on first use."""
    if not _Holder.sessions:
        _Holder.sessions.append(HostSession.from_config())
    return _Holder.sessions[0]


def running_session() -> Optional[HostSession]:
    """The session if one was started, else None (never starts one: no farm, no network)."""
    return _Holder.sessions[0] if _Holder.sessions else None


def set_session(session: Optional[HostSession]) -> None:
    """Install a session (tests, or a pipeline that built its own Farm); None forgets it."""
    _Holder.sessions[:] = [session] if session is not None else []


def shutdown_session() -> None:
    """Stop the farm and forget the session (Nuke exit, end of `nuke -t`, tests)."""
    if _Holder.sessions:
        session = _Holder.sessions.pop()
        session.stop()
