"""What one ComfyUI server can do, learned from what it says, so every feature fits the server.

Studios pin their ComfyUI for months; the farm mixes releases. Three protocol changes matter:

| since  | behaviour                                                         | without it we...                  |
|--------|-------------------------------------------------------------------|-----------------------------------|
| 0.3.45 | `POST /prompt` queues under the client's `prompt_id`              | use the id the answer carries     |
| 0.3.58 | `POST /interrupt` stops only the prompt named in its body         | interrupt only when ours runs now |
| 0.7.0  | `/api/jobs`                                                       | read `/queue` + `/history`        |

The version comes from `/system_stats`. Where a probe is cheaper and surer it wins: the jobs API
is probed with one GET of a job id nobody has (a JSON 404 means the route exists), and whether
the server honours our prompt ids is confirmed by every POST answer (`observed_prompt_ids`).
A server that does not report a version, or reports one we cannot read, gets the oldest
behaviour assumed (always safe, only a little slower). Servers older than MINIMUM_VERSION are
refused with a message naming the server, its version and the minimum.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any, Dict, Optional, Tuple

MINIMUM_VERSION = "0.3.40"  # the oldest release checked against a real server (see docs/VERSIONS.md)
CLIENT_PROMPT_ID_SINCE = (0, 3, 45)
TARGETED_INTERRUPT_SINCE = (0, 3, 58)
JOBS_API_SINCE = (0, 7, 0)
JOBS_PROBE_ID = "nuke-comfyui-capability-probe"

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: Optional[str]) -> Optional[Tuple[int, int, int]]:
    """'0.3.40' / 'v0.3.40' / '0.3.45-3-gabc' -> (0, 3, 40); None when it is not a release number."""
    match = _VERSION.match(str(text or "").strip())
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


_MINIMUM = parse_version(MINIMUM_VERSION)


@dataclass(frozen=True)
class Capabilities:
    """One server's protocol features. The defaults are the oldest (always safe) behaviour."""

    version: Optional[str] = None
    known: bool = False  # False: nothing learned yet, the oldest behaviour is assumed
    client_prompt_id: bool = False  # POST /prompt honours our prompt_id
    targeted_interrupt: bool = False  # POST /interrupt {"prompt_id"} stops only that prompt
    jobs_api: bool = False  # GET /api/jobs/{id} exists
    supported: bool = True
    refusal: Optional[str] = None  # why the server is refused (names server, version, minimum)

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    def limitations(self) -> Tuple[str, ...]:
        """What this server lacks, in words for a table cell or tooltip."""
        out = []
        if not self.client_prompt_id:
            out.append("server-made prompt ids")
        if not self.targeted_interrupt:
            out.append("untargeted interrupt")
        if not self.jobs_api:
            out.append("no jobs API")
        return tuple(out)

    def summary(self) -> str:
        """'full', 'refused (older than 0.3.40)', or the limitations ('unknown: ...' before a version)."""
        if not self.supported:
            return f"refused (older than {MINIMUM_VERSION})"
        limits = self.limitations()
        if not limits:
            return "full"
        text = ", ".join(limits)
        return text if self.known else f"unknown version: assuming {text}"


def from_version(server: str, version: Optional[str]) -> Capabilities:
    """What a server of this release can do (before any probe)."""
    number = parse_version(version)
    if number is None:
        return Capabilities(version=version)
    if _MINIMUM is not None and number < _MINIMUM:
        return Capabilities(
            version=version, known=True, supported=False,
            refusal=(f"{server} runs ComfyUI {version}, older than {MINIMUM_VERSION}, the oldest release "
                     f"nuke-comfyui supports; upgrade ComfyUI on {server} or disable the server"),
        )
    return Capabilities(
        version=version, known=True,
        client_prompt_id=number >= CLIENT_PROMPT_ID_SINCE,
        targeted_interrupt=number >= TARGETED_INTERRUPT_SINCE,
        jobs_api=number >= JOBS_API_SINCE,
    )


def with_jobs_probe(caps: Capabilities, client: Any) -> Capabilities:
    """Ask the server itself whether /api/jobs exists (one GET); keep the version's guess on errors."""
    from nuke_comfyui.core.comfy.client import UnsupportedEndpoint
    from nuke_comfyui.core.errors import ComfyError

    job = getattr(client, "job", None)
    if job is None:  # a client without the jobs call cannot probe: keep what the version says
        return caps
    try:
        job(JOBS_PROBE_ID)
    except UnsupportedEndpoint:
        return replace(caps, jobs_api=False)
    except ComfyError:
        return caps
    return replace(caps, jobs_api=True)


def learn(server: str, version: Optional[str], client: Any) -> Capabilities:
    """Capabilities of a server that just answered /system_stats with `version`."""
    caps = from_version(server, version)
    if not caps.supported:
        return caps
    return with_jobs_probe(caps, client)


def observed_prompt_ids(caps: Capabilities, honoured: bool) -> Capabilities:
    """What a POST answer showed: the server kept our prompt_id (honoured) or made its own."""
    if caps.client_prompt_id == honoured:
        return caps
    return replace(caps, client_prompt_id=honoured)
