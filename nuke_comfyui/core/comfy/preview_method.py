"""Asking a server to make no live previews for a prompt nobody can ever watch.

A server started with `--preview-method` decodes a preview after every sampler step and sends it
to the prompt's socket: GPU time on the server, bytes on the wire and a wake-up of our stream
thread each, for nothing when the process that queued the prompt can never show one (the CLI,
`nuke -t`, a farm task). Since ComfyUI 0.5.0 (upstream dbd33045, "per-queue live preview method
override") a prompt's `extra_data` may carry `preview_method`: `none` turns the latent previewer
off for that prompt only (execution.py calls `latent_preview.set_preview_method` at the start of
every prompt, so the next prompt, another artist's, gets the server's own setting back). Older
servers keep the key in the queue item and history without reading it, so sending it is always
safe; their previews keep coming and are dropped unparsed as before (live_interest.py).

It silences the latent previewer only: a node that sends images through the progress hook
itself (SaveImageWebsocket) still sends them (checked on real 0.33.0 and 0.8.2, docs/LIVE_VIEW.md).

Who decides is whoever builds the farm (`Farm.from_config(previews=...)`): the CLI and headless
Nuke ask for none (`False`); the monitor keeps the server's default (`True`); a Nuke session with
a GUI asks per prompt (`WHEN_WATCHED`): a prompt sent while a Results panel shows previews keeps
the server's default, any other asks none. A panel opened mid-render shows previews from the next
prompt sent (the pull scheduler sends each job just before a server is free, so that is at most one
job later), and a session whose panel stays hidden pays nothing for previews.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Union

PREVIEW_METHOD_KEY = "preview_method"
NO_PREVIEWS = "none"
#: `previews` policy of a GUI session: previews asked only for prompts sent while someone watches them
WHEN_WATCHED = "when-watched"
Policy = Union[bool, str]
#: the first ComfyUI release that honours extra_data.preview_method (older ones ignore the key)
HONOURED_SINCE = (0, 5, 0)


def prompt_extra_data(previews: bool) -> Dict[str, Any]:
    """The extra_data a process adds to every prompt it queues: nothing when it may show previews
    (the server's own setting stands), else the request for none."""
    return {} if previews else {PREVIEW_METHOD_KEY: NO_PREVIEWS}


def extra_data_for(policy: Policy, watching: Callable[[], bool]) -> Dict[str, Any]:
    """The extra_data of one prompt about to be sent, under `policy` (see the module's docstring)."""
    if policy == WHEN_WATCHED:
        return prompt_extra_data(watching())
    return prompt_extra_data(bool(policy))
