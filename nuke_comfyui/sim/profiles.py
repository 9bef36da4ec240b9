"""ComfyUI version profiles: which protocol behaviours a simulated server of a given release has.

Studios pin their ComfyUI for months, so the farm mixes old and new servers. The protocol
changes that matter to a client are few, and each is reproduced here by release:

- before 0.3.45, `POST /prompt` ignores the client's `prompt_id` and makes its own (the answer
  carries the id it made);
- before 0.3.58, `POST /interrupt` ignores the `prompt_id` in its body and stops whatever runs;
- `/api/jobs` exists only from 0.7.0 (older servers answer 404 without a JSON body);
- from 0.3.45 the server answers a client's `feature_flags` negotiation, sends previews with
  metadata (type 4) to clients that asked, and sends `progress_state`; older ones send type 1
  previews only and no `progress_state`;
- from 0.5.0 a prompt's `extra_data.preview_method` overrides the server's preview method for that
  prompt alone (`none` silences its previews); older servers ignore the key;
- `/system_stats` reports the profile's `comfyui_version`;
- `BatchImagesNode` / `BatchMasksNode` (frame batches) exist only from 0.7.0;
- from 0.21.0 `LoadImage` decodes through PyAV (EXR and 16-bit PNG as float), from 0.23.0
  `/object_info` lists 0.33's records with `SaveImageAdvanced`, and from 0.25.0 a float image
  whose width is not a multiple of 32 fails to load (sim/float_images.py models the measured
  behaviour).

`SimServer` asks a `VersionProfile` at those places and nowhere else, so a profile is the whole
difference between an old and a new simulated server.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

DEFAULT_VERSION = "0.8.0"  # what the recorded captures came from (see COMFYUI_PROTOCOL.md)

CLIENT_PROMPT_ID_SINCE = (0, 3, 45)
TARGETED_INTERRUPT_SINCE = (0, 3, 58)
JOBS_API_SINCE = (0, 7, 0)
FEATURE_FLAGS_SINCE = (0, 3, 45)  # upstream 2b653e8c, 2025-07-10: feature flags, type 4, progress_state
PREVIEW_METHOD_OVERRIDE_SINCE = (0, 5, 0)  # upstream dbd33045, 2025-12-15: extra_data.preview_method
AUTOGROW_BATCH_SINCE = (0, 7, 0)  # BatchImagesNode / BatchMasksNode (core, 2025-12-30)
PYAV_IMAGES_SINCE = (0, 21, 0)  # upstream dae3d347, 2026-04-28
SAVE_IMAGE_ADVANCED_SINCE = (0, 23, 0)  # upstream 0077d78c, 2026-05-24
ALIGNED_FLOAT_WIDTH_SINCE = (0, 25, 0)  # upstream a1d95f3f, 2026-06-13

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse(version: str) -> Tuple[int, int, int]:
    """'0.3.40' -> (0, 3, 40); ValueError naming the expected form otherwise."""
    match = _VERSION.match(str(version).strip())
    if match is None:
        raise ValueError(f"comfy version {version!r} is not a release number; give one like 0.3.40 or 0.8.2")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


@dataclass(frozen=True)
class VersionProfile:
    """The behaviours of one ComfyUI release that a client can tell apart."""

    version: str
    honours_client_prompt_id: bool
    targeted_interrupt: bool
    jobs_api: bool
    feature_flags: bool = True
    progress_state: bool = True
    preview_method_override: bool = True  # honours a prompt's extra_data.preview_method
    autogrow_batch: bool = True  # has BatchImagesNode and BatchMasksNode (older servers join with ImageBatch)
    pyav_images: bool = False
    save_image_advanced: bool = False
    aligned_float_width: bool = False

    @classmethod
    def of(cls, version: Optional[str] = None) -> VersionProfile:
        """The profile of a release ('0.3.40', '0.8.2', ...); None means DEFAULT_VERSION."""
        text = str(version).strip() if version is not None else DEFAULT_VERSION
        number = parse(text)
        return cls(
            version=text.lstrip("v"),
            honours_client_prompt_id=number >= CLIENT_PROMPT_ID_SINCE,
            targeted_interrupt=number >= TARGETED_INTERRUPT_SINCE,
            jobs_api=number >= JOBS_API_SINCE,
            feature_flags=number >= FEATURE_FLAGS_SINCE,
            progress_state=number >= FEATURE_FLAGS_SINCE,
            preview_method_override=number >= PREVIEW_METHOD_OVERRIDE_SINCE,
            autogrow_batch=number >= AUTOGROW_BATCH_SINCE,
            pyav_images=number >= PYAV_IMAGES_SINCE,
            save_image_advanced=number >= SAVE_IMAGE_ADVANCED_SINCE,
            aligned_float_width=number >= ALIGNED_FLOAT_WIDTH_SINCE,
        )

    def missing_nodes(self) -> Tuple[str, ...]:
        """Core node classes this release does not have yet."""
        return () if self.autogrow_batch else ("BatchImagesNode", "BatchMasksNode")

    def prompt_id_for(self, body: Dict[str, Any]) -> str:
        """The id a POST /prompt queues under: the client's (0.3.45+) or a fresh one."""
        if self.honours_client_prompt_id and body.get("prompt_id"):
            return str(body["prompt_id"])
        return str(uuid.uuid4())

    def interrupts(self, requested: Optional[str], running: Optional[str]) -> bool:
        """Whether POST /interrupt (body prompt_id `requested`) stops the running prompt `running`."""
        if running is None:
            return False
        if requested and self.targeted_interrupt:
            return requested == running
        return True  # a bare interrupt, or any interrupt on a server older than 0.3.58


def profiles_per_server(value: Any, count: int) -> Tuple[VersionProfile, ...]:
    """One profile per server from None, one version for all, or a list with one per server."""
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(
                f"comfy_version: {len(value)} values for {count} servers; give one value or one per server"
            )
        return tuple(VersionProfile.of(None if v in (None, "") else str(v)) for v in value)
    return tuple(VersionProfile.of(None if value in (None, "") else str(value)) for _ in range(count))
