"""A command's time with a running farm: started, checked to answer, followed, stopped — safely.

Why one place: `render`, `resume`, `retry` and the demo all start a farm, must fail in seconds
when none of its servers answers (core/pool/reachability.py), must not be torn by Ctrl-C while
the journal is written (cli/interrupts.py), and must always stop it. Each used to do part of it.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from typing import Any, Iterator, Optional, Sequence

from nuke_comfyui.cli.interrupts import INTERRUPTS

#: seconds to wait for the first server's node list (its files) before judging image inputs
OBJECT_INFO_WAIT_S = 10.0
#: what to try when no server answers, after "check that ComfyUI runs there"
TRY_SIMULATOR = "to try nuke-comfyui without servers: `nuke-comfyui demo --sim`"


NOTHING_CONFIGURED = ("no servers are configured, so the default one was tried: list yours in the Settings panel, "
                      "the settings file or NUKE_COMFYUI_SERVERS (docs/CONFIG.md), or try `nuke-comfyui demo --sim`")


def nothing_configured(loaded: Any) -> bool:
    """True when no source defined a server (the loader fell back to its one default server)."""
    return bool(getattr(loaded, "nothing_configured", False))


class Interrupted(KeyboardInterrupt):
    """A signal arrived before anything was sent: the command ends with 130 (cli/main.py)."""

    def __init__(self, exit_code: int, what: str) -> None:
        super().__init__(what)
        self.exit_code = exit_code


@contextlib.contextmanager
def farm_session(args: argparse.Namespace, loaded: Any = None, servers: Optional[Sequence[str]] = None,
                 *, hint: str = TRY_SIMULATOR, check: bool = True) -> Iterator[Any]:
    """Start the farm with Ctrl-C deferred, fail at once when none of `servers` (every enabled one
    when None) answers, and stop the farm at the end whatever happens."""
    from nuke_comfyui.cli.render_setup import open_farm
    from nuke_comfyui.core.pool.reachability import check_reachable

    with INTERRUPTS.deferred():
        farm = open_farm(args, loaded=loaded)
        try:
            if check:
                check_reachable(farm.pool, servers, hint=NOTHING_CONFIGURED if nothing_configured(loaded) else hint)
            yield farm
        finally:
            farm.stop()


def stop_if_interrupted() -> None:
    """Raise Interrupted when a signal came while the farm was starting (nothing was sent yet)."""
    if INTERRUPTS.fired():
        raise Interrupted(INTERRUPTS.exit_code(), f"{INTERRUPTS.signal_name()}: stopped before anything was sent")


def submit_and_follow(farm: Any, request: Any, *, as_json: bool) -> int:
    """Submit a render request and follow it to the end; returns the exit code."""
    from nuke_comfyui.cli.follow import follow
    from nuke_comfyui.core.seeds import base_seed_for_group

    refuse_unfed_images(farm, request)
    stop_if_interrupted()
    group_id = farm.scheduler.submit(request)
    drawn = base_seed_for_group(group_id) if request.draws_base_seed() else None
    return follow(farm.scheduler, group_id, as_json=as_json, pool=farm.pool, servers=request.servers,
                  base_seed=drawn)


def refuse_unfed_images(farm: Any, request: Any) -> None:
    """RequestError before anything is sent when an image input of the workflow gets no file that
    any server has (core/image_requirements.py); waits (bounded) for the servers' file lists."""
    from nuke_comfyui.core.image_requirements import check_images

    def lists() -> Any:
        deadline = time.monotonic() + OBJECT_INFO_WAIT_S
        while time.monotonic() < deadline and not farm.pool.object_infos():
            time.sleep(0.05)
        return farm.pool.object_infos()

    check_images(request, farm.pool.object_infos(), farm.pool.object_info(), wait_for_lists=lists)
