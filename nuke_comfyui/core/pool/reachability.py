"""A farm that is not there says so at once: the first answers of the servers a render may use.

Why a separate, short wait: the scheduler's 60 s patience (scheduler/starvation.py) is right for
servers that answer but cannot take the work yet (busy, refusing, restarting); it is wrong when no
server answers at all — a typo in the settings, the farm switched off, the wrong network. Then a
render should end in seconds with one line per server (name, address, what happened) and what to
try, instead of a minute of silence and the same long reason once per frame.

`check_reachable` waits (bounded) for the first probe of every server the render may use and
raises `FarmUnreachable` when none of them answered. A server that answers at all (even with an
error: refused credentials, not ComfyUI, too old) is left to the scheduler, whose messages say
what is wrong with it.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, List, Optional, Sequence

from nuke_comfyui.core.errors import NukeComfyError

#: seconds to wait for the first answers: a refused connection answers at once, a dead host takes
#: the client's connect timeout (3 s) plus its retries
FIRST_ANSWER_WAIT_S = 8.0
#: where the CLI's message sends the user to see every server (Nuke names its Server Status panel)
LOOK_IN_STATUS = "`nuke-comfyui status` shows every server"
_CANNOT_REACH = re.compile(r"^cannot reach \S+ \((?P<reason>.*)\); check that")
_REASON_CHARS = 120


class FarmUnreachable(NukeComfyError):
    """No server a render may use answered at all (the message has one line per server)."""


def check_reachable(pool: Any, names: Optional[Sequence[str]] = None, *, wait: float = FIRST_ANSWER_WAIT_S,
                    hint: str = "", look: str = LOOK_IN_STATUS, started: Optional[float] = None,
                    clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
    """Return once one of the servers (enabled, and among `names` when given) answers; raise
    FarmUnreachable when every one of them is unreachable or silent after `wait` seconds.

    Returns at once when the pool lists no such server: that is the scheduler's to report. Once
    every server has been probed it decides without waiting, so only a farm's first seconds
    (a server whose connect times out) cost up to `wait`, counted from `started` (the `clock()` time
    the pool began probing; now when None): a long-lived session whose servers have been silent
    for that long is told at once. `look` says where every server is shown (the CLI's `status`,
    Nuke's Server Status panel); `hint` what else to try.
    """
    deadline = (clock() if started is None else started) + wait
    while True:
        statuses = _candidates(pool, names)
        if not statuses or any(_answered(status) for status in statuses):
            return
        if all(status.checked_at is not None for status in statuses) or clock() >= deadline:
            raise FarmUnreachable(unreachable_message(statuses, wait, hint, look))
        sleep(0.05)


def unreachable_message(statuses: Sequence[Any], waited: float, hint: str = "", look: str = LOOK_IN_STATUS) -> str:
    """`none of the 2 servers answers:`, one line per server (name, address, what happened), what to try."""
    lines = [f"none of the {len(statuses)} servers answers:" if len(statuses) > 1 else "the server does not answer:"]
    width = max(len(status.name) for status in statuses)
    for status in statuses:
        lines.append(f"  {status.name:<{width}}  {status.url}  {server_problem(status, waited)}")
    lines.append(f"check that ComfyUI runs there and the addresses are right ({look})" + (f"; {hint}" if hint else ""))
    return "\n".join(lines)


def server_problem(status: Any, waited: float = FIRST_ANSWER_WAIT_S) -> str:
    """What happened to one server, short: `connection refused`, `no answer within 8 s`, ..."""
    if status.checked_at is None:
        return f"no answer within {waited:g} s"
    return short_error(str(status.error or _value(status.state)))


def short_error(text: str) -> str:
    """`connection refused` out of "cannot reach <url> (connection refused); check that ...", and any
    other error cut to _REASON_CHARS: the address and the advice are said elsewhere."""
    match = _CANNOT_REACH.match(text)
    if match is not None:
        text = match.group("reason")
    return text if len(text) <= _REASON_CHARS else text[:_REASON_CHARS - 3] + "..."


def _candidates(pool: Any, names: Optional[Sequence[str]]) -> List[Any]:
    wanted = set(names or ())
    return [status for status in pool.statuses()
            if getattr(status, "enabled", True) and (not wanted or status.name in wanted)]


def _answered(status: Any) -> bool:
    """Whether the server answered its probe at all (usable or not): only `offline` means it did not."""
    return status.checked_at is not None and _value(status.state) != "offline"


def _value(state: Any) -> str:
    return str(getattr(state, "value", state))
