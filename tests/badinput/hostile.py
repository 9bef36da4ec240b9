"""Helpers the hostile-input tests share: a bounded run of the CLI, settings for a simulated farm.

`run_bounded` is how these tests prove "nothing waits forever": the command runs on a daemon
thread and the test fails, naming the bound, if it has not returned by then (instead of the
suite hanging as the render did).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

from nuke_comfyui.cli.main import main


def run_bounded(argv: List[str], seconds: float) -> int:
    """`main(argv)`'s exit code; AssertionError if it takes longer than `seconds`."""
    result: Dict[str, Any] = {}

    def target() -> None:
        try:
            result["code"] = main(argv)
        except BaseException as exc:  # handed to the test thread below
            result["error"] = exc

    thread = threading.Thread(target=target, name="bounded-cli", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise AssertionError(f"nuke-comfyui {' '.join(argv[:1])} did not end within {seconds:g} s")
    if "error" in result:
        raise result["error"]
    return int(result["code"])


def farm_config(tmp_path: Path, urls: List[str], extra: Optional[Dict[str, Any]] = None) -> Path:
    """A settings file naming the simulated servers sim0, sim1, ... (plus `extra` cluster settings)."""
    servers = [{"name": f"sim{i}", "url": url} for i, url in enumerate(urls)]
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"servers": servers, **(extra or {})}))
    return path
