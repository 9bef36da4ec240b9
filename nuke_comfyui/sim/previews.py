"""Live previews of the simulated sampler, framed as ComfyUI frames them (type 1 or type 4).

A real server started with `--preview-method latent2rgb|taesd` sends one JPEG per sampler step
(`latent_preview.py`): latent2rgb decoded at the latent's resolution (an eighth of the image's),
TAESD at the image's, both then fitted to 512 px by `ImageOps.contain`, which enlarges as well as
shrinks (`server.py` `send_image`, since 2023: a latent2rgb preview of a 128 px image arrives as
512x512, recorded on 0.33.0 and 0.8.2), to the socket of the prompt's client id, or to every
socket when the prompt has none (`main.py` hook, `server.py` `send_image` /
`send_image_with_metadata`). Per step a real 0.33 sends (captured): `progress_state`, the type 4
preview, `progress`, the type 1 preview; only one of the two previews, by the socket's flags:

- a client that negotiated `supports_preview_metadata` on a 0.3.45+ server gets type 4: uint32
  type, uint32 JSON length, JSON metadata (node_id, prompt_id, display_node_id, parent_node_id,
  real_node_id, image_type), the JPEG;
- every other client (and every older server) gets type 1: uint32 type, uint32 format (1 JPEG),
  the JPEG, with no prompt id.

From 0.5.0 a prompt may override the server's method for itself alone with `extra_data.preview_method`
(`latent_preview.set_preview_method`, called by execution.py as every prompt starts): `none` makes
no previews, `auto` means latent2rgb, `latent2rgb` / `taesd` turn them on even on a server started
without a method, and `default` or an unknown name keeps the server's own; older servers ignore
the key (`prompt_method`).

Here the picture is the job's final image (`nodes.seed_picture`) faded in from grey step by step,
so a screenshot of a running card shows an image forming. Encoding runs on the server's worker
thread, never on its event loop. `run` is the executor's PromptRun and `server` its SimServer,
named by duck type only, so this module imports neither (the executor imports this one).
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
import struct
from typing import Any, Dict, Optional, Tuple

from PIL import Image

from nuke_comfyui.sim import nodes

log = logging.getLogger(__name__)

METHODS = ("latent2rgb", "taesd")
MAX_PREVIEW_PX = 512  # ComfyUI's --preview-size default
PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
_JPEG_FORMAT = 1


def preview_method(value: Any) -> Optional[str]:
    """None/"" (no previews) or one of METHODS; ValueError naming the choices otherwise."""
    if value in (None, "", "none"):
        return None
    if value not in METHODS:
        raise ValueError(f"previews: {value!r} is not a preview method; use {' or '.join(METHODS)}")
    return str(value)


def prompt_method(server_method: Optional[str], extra_data: Dict[str, Any], profile: Any) -> Optional[str]:
    """The preview method one prompt runs with: the server's, unless the prompt overrides it on a
    release that reads the override (ComfyUI's LatentPreviewMethod names; a real server without
    TAESD decoder files falls back from taesd to latent2rgb, which the simulator has no files to model)."""
    override = extra_data.get("preview_method") if profile.preview_method_override else None
    if override == "none":
        return None
    if override == "auto":
        return "latent2rgb"  # get_previewer: Auto -> Latent2RGB
    if override in METHODS:
        return str(override)
    return server_method  # unset, "default" or a name the server does not know


def decoded_size(method: str, image_size: Tuple[int, int]) -> Tuple[int, int]:
    """The size the previewer decodes at for an image of `image_size` (the simulator's latents are
    pixels): latent2rgb at the latent's (an eighth), TAESD at the image's."""
    width, height = image_size
    if method == "latent2rgb":
        return max(1, width // 8), max(1, height // 8)
    return width, height


def preview_size(method: str, image_size: Tuple[int, int]) -> Tuple[int, int]:
    """The preview's pixel size as sent: the decoded picture fitted to 512 px, up or down
    (ImageOps.contain), so every method's preview is 512 px on its long side."""
    width, height = decoded_size(method, image_size)
    scale = MAX_PREVIEW_PX / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


@functools.lru_cache(maxsize=16)
def _final_picture(seed: int, size: Tuple[int, int]) -> Image.Image:
    return nodes.seed_picture(seed, size)  # the same for every step of a prompt: made once


def preview_jpeg(seed: int, decoded: Tuple[int, int], size: Tuple[int, int], step: int, steps: int) -> bytes:
    """The step's picture: the seed's final image faded in from grey at the `decoded` size, fitted
    to `size` as ComfyUI does (bilinear), as JPEG quality 95."""
    final = _final_picture(seed, decoded)
    grey = Image.new("RGB", decoded, (128, 128, 128))
    picture = Image.blend(grey, final, max(0.0, min(1.0, step / max(1, steps))))
    if picture.size != size:
        picture = picture.resize(size, Image.Resampling.BILINEAR)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=95)
    return out.getvalue()


def frame(jpeg: bytes, metadata: Optional[Dict[str, Any]]) -> bytes:
    """A binary WebSocket message: type 4 with `metadata`, else type 1."""
    if metadata is None:
        return struct.pack(">II", PREVIEW_IMAGE, _JPEG_FORMAT) + jpeg
    text = json.dumps({**metadata, "image_type": "image/jpeg"}).encode("utf-8")
    return struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(text)) + text + jpeg


def wants_metadata(server: Any, sid: Optional[str]) -> bool:
    """Did this client negotiate previews with metadata, on a server that has them?"""
    flags = server.socket_flags.get(sid, {}) if sid is not None else {}
    return server.options.profile.feature_flags and flags.get("supports_preview_metadata") is True


async def send_step_preview(run: Any, node_id: str, step: int, steps: int,
                            sampler_inputs: Dict[str, Any], *, with_metadata: bool) -> None:
    """The preview of one sampler step, if the prompt runs with a preview method, this step is one of them and
    the prompt's client gets this kind (`with_metadata`: type 4, else type 1)."""
    server, prompt_id, sid = run.server, run.pid, run.sid
    method = prompt_method(server.options.previews, run.item.extra_data, server.options.profile)
    every = server.options.preview_every
    if method is None or every < 1 or (step % every and step != steps) or wants_metadata(server, sid) != with_metadata:
        return
    latent = sampler_inputs.get("latent_image") or []
    if not latent:
        return
    seed = int(sampler_inputs.get("seed", sampler_inputs.get("noise_seed", 0)) or 0)
    decoded, size = decoded_size(method, latent[0].size), preview_size(method, latent[0].size)
    loop = asyncio.get_running_loop()
    try:
        jpeg = await loop.run_in_executor(server.pool, lambda: preview_jpeg(seed, decoded, size, step, steps))
    except RuntimeError:  # the server is going away (its worker pool is shut): no preview to send
        return
    metadata = None
    if with_metadata:
        metadata = {"node_id": node_id, "prompt_id": prompt_id, "display_node_id": node_id,
                    "parent_node_id": None, "real_node_id": node_id}
    await send_binary(server, frame(jpeg, metadata), sid)


async def send_binary(server: Any, payload: bytes, sid: Optional[str]) -> None:
    """To one client id (if connected) or, with sid None, to every socket (ComfyUI's send_bytes)."""
    targets = list(server.sockets.values()) if sid is None else \
        [server.sockets[sid]] if sid in server.sockets else []
    for ws in targets:
        try:
            await ws.send_bytes(payload)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("ws preview send failed: %s", exc)
