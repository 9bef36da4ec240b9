"""`nuke-comfyui status`: one probe of every configured server, as a table or JSON.

Exit 0 when at least one server is usable (online or busy), 1 otherwise, so scripts and farm
pre-flight checks can use it as a gate. PROTOCOL says what the server's ComfyUI release can do
("full", or what it lacks: see core/comfy/capabilities.py); a release older than the minimum is
an error row naming the minimum. IMAGES says what it does with image files ("EXR in, EXR/PNG16
out", "8-bit PNG": core/comfy/image_capabilities.py; `images` in the JSON).
A server this process saw stall on a prompt of ours (core/scheduler/stall_report.py) shows STATE
`stalled` and the note in ERROR (`stalled` in the JSON): a pool that has run renders knows it, the
one-shot `status` command's own pool never does.
"""

from __future__ import annotations

import argparse
import json
from typing import Dict, List, Optional

from nuke_comfyui.core.config_loader import load_config
from nuke_comfyui.core.pool import ServerPool, ServerState, ServerStatus
from nuke_comfyui.core.pool.image_caps import usable_image_capabilities

#: how long `status` waits for the probes; a server still silent then is shown offline, "no answer"
STATUS_WAIT_S = 8.0
HELP = "show every configured server's state, queue, VRAM, latency, version, protocol and image features"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE",
                        help="settings file (default: NUKE_COMFYUI_CONFIG or the per-user file)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")


def run(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    pool = ServerPool(loaded.cluster)
    try:
        statuses = pool.refresh(timeout=STATUS_WAIT_S)  # a few seconds, whatever the farm's size
        shown_offline = {s.name for s in statuses if s.state is ServerState.OFFLINE}
        learned = {name: caps for name, caps in usable_image_capabilities(pool).items() if name not in shown_offline}
    finally:
        pool.stop()
    images = {name: caps.summary() for name, caps in learned.items()}
    if args.json:
        print(json.dumps([{**s.to_json(), "images": learned[s.name].to_json() if s.name in learned else None}
                          for s in statuses], indent=2))
    else:
        print(format_table(statuses, images))
    return 0 if any(s.state.usable for s in statuses) else 1


def format_table(statuses: List[ServerStatus], images: Optional[Dict[str, str]] = None) -> str:
    header = ["NAME", "URL", "STATE", "RUN", "PEND", "VRAM", "LATENCY", "VERSION", "PROTOCOL", "IMAGES", "ERROR"]
    rows = [header] + [
        [s.name, s.url, s.state_text, *_queue(s), _vram(s),
         "-" if s.latency_ms is None else f"{s.latency_ms:.0f} ms", s.comfyui_version or "-",
         s.capabilities.summary() if s.capabilities is not None else "-", (images or {}).get(s.name, "-"),
         s.stalled or s.error or ""]
        for s in statuses
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows
    ).rstrip()


def _queue(status: ServerStatus) -> List[str]:
    """RUN and PEND; '-' for a server whose queue was not read (offline, disabled, error)."""
    if not status.state.usable:
        return ["-", "-"]
    return [str(status.queue_running), str(status.queue_pending)]


def _vram(status: ServerStatus) -> str:
    """Used / total in GiB (binary units, as the panel shows them); `cpu` for a CPU-only server."""
    if status.vram_total is None:
        return "-"
    used = status.vram_total - (status.vram_free or 0)
    text = f"{used / 1024**3:.1f}/{status.vram_total / 1024**3:.1f} GiB"
    return f"cpu {text}" if status.cpu_only else text
