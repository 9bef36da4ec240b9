"""The project's exception hierarchy.

Every message is written for the person who has to act on it: it names what is wrong, where
(source, server, field, node) and how to fix it. Callers at the edges (CLI, panels, Nuke
callbacks) show `str(exc)` as it is, so no message may contain a secret.
"""

from __future__ import annotations

from typing import Any, Dict, Optional


class NukeComfyError(Exception):
    """Base class: anything the project raises on purpose."""


class ConfigError(NukeComfyError):
    """A server or cluster configuration value is wrong (message names source, server and field)."""


class WorkflowError(NukeComfyError):
    """A workflow file is not usable (not API format, ambiguous input/output nodes, ...)."""


class FrameSetError(NukeComfyError):
    """A frame set string does not follow Nuke's grammar (message points at the bad token)."""


class PathMappingError(NukeComfyError):
    """A path lies outside every local<->remote mapping of a server."""


class UnsafePathError(NukeComfyError):
    """A name sent by a server would escape the folder we write into."""


class NoCapableServer(NukeComfyError):
    """No configured server can run a workflow (message lists what is missing where)."""


class JournalError(NukeComfyError):
    """The job journal cannot be read or written."""


class ComfyError(NukeComfyError):
    """Something went wrong talking to one ComfyUI server."""

    def __init__(self, message: str, server: str = "") -> None:
        from nuke_comfyui.core.redact import redact  # a server may echo our token into any message

        self.server = server
        super().__init__(redact(f"{server}: {message}" if server else message))


class ServerUnavailable(ComfyError):
    """Connection refused, reset or timed out: the server may come back; try another one meanwhile."""


class ServerBusy(ServerUnavailable):
    """429 or 503 (a proxy's "too many requests" / "service unavailable"): come back later.

    `retry_after`: the seconds the server asked for (Retry-After), or None when it did not say.
    """

    def __init__(self, message: str, server: str = "", retry_after: Optional[float] = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, server)


class ServerError(ComfyError):
    """The server answered with an HTTP 5xx (ComfyUI answers malformed requests with a plain-text 500)."""

    def __init__(self, message: str, server: str = "", status: int = 500) -> None:
        self.status = status
        super().__init__(message, server)


class AuthError(ComfyError):
    """401/403: credentials missing or wrong, or a proxy/Origin check refused us."""


class ProtocolError(ComfyError):
    """The server answered something that is not what ComfyUI sends (garbage, wrong shape)."""


class PromptValidationError(ComfyError):
    """ComfyUI refused a prompt with HTTP 400. Never retried: the workflow itself must change.

    `error` is ComfyUI's `error` object and `node_errors` its per-node errors; `str()` renders
    them as one readable line per node and input at fault.
    """

    def __init__(
        self,
        message: str,
        server: str = "",
        error: Optional[Dict[str, Any]] = None,
        node_errors: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.error = error or {}
        self.node_errors = node_errors or {}
        super().__init__(message, server)
