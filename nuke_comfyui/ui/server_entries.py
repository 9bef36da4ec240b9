"""The settings panel's server rows: raw values, where each server came from, path preview, connection test.

Kept apart from the panel's widgets so the rules (which servers are read-only, how a local
path maps onto a server) read on their own and are shared by every view of the server list.
"""

from __future__ import annotations

from typing import Any, Dict


def server_values(server: Any) -> Dict[str, Any]:
    """A ServerConfig as a plain dict of raw values (`${VAR}` references untouched)."""
    return dict(server.model_dump(mode="python")) if hasattr(server, "model_dump") else dict(server)


def is_env_source(source: str) -> bool:
    """Servers whose source is an environment variable cannot be edited here."""
    return not source.startswith("file") and source not in ("", "new", "panel")


def remote_preview(server: Any, local_path: str) -> str:
    """Where `local_path` lands on `server`, or why it cannot be mapped (names the fix).

    A server in transfer 'upload' without a mapping needs none: its frames are uploaded.
    """
    from nuke_comfyui.core.errors import PathMappingError
    from nuke_comfyui.core.paths import PathMapping

    try:
        return str(PathMapping.for_server(server).to_remote(local_path))
    except PathMappingError as exc:
        if getattr(server, "transfer", "upload") == "upload":
            return "no mapping needed: frames are uploaded to it (transfer 'upload')"
        return f"not mapped: {exc}"


def default_tester(server: Any) -> Any:
    """Probe one server configuration (the pool's test, which never needs a running pool)."""
    from nuke_comfyui.core.pool import test_connection

    return test_connection(server)


class ServerEntry:
    """One row of the server list: raw values plus where the server came from."""

    def __init__(self, values: Dict[str, Any], source: str) -> None:
        self.values = values
        self.source = source
        self.errors: Dict[str, str] = {}

    @property
    def read_only(self) -> bool:
        return is_env_source(self.source)

    def item_text(self) -> str:
        """The list row: name, source for env servers, [!] when a field is invalid."""
        name = self.values.get("name") or "(unnamed)"
        flag = "  [!]" if self.errors else ""
        return f"{name}  (from {self.source})" + flag if self.read_only else name + flag
