"""What the plugin's init.py adds to every Nuke start-up, farm renders included, measured in ms.

Each run is a fresh interpreter (so nothing is cached in sys.modules) with a minimal stand-in
`nuke` module already imported, as Nuke has it before running init.py; the figure is the time
init.py itself takes, and the heavy packages it must not load (pydantic, requests, websocket,
Qt, the server settings) are listed if they were. Figures are printed, never asserted: the
machines are shared and noisy, so the median of several runs is the number to read.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from nuke_comfyui.core.errors import ConfigError

PLUGIN_ROOT = Path(__file__).resolve().parents[2]
GOAL_MS = 50.0
HEAVY = ("pydantic", "requests", "websocket", "Qt", "PySide2", "PySide6", "nuke_comfyui.core.config_loader",
         "nuke_comfyui.core.farm", "nuke_comfyui.host.knobs", "nuke_comfyui.host.arrival")
# What init.py calls of Nuke's API (pluginAddPath, and the onCreate / onScriptLoad hooks), as no-ops:
# without them init.py would take its logged-failure path and the figure would time that instead.
STAND_IN = ('GUI = False\nEXE_PATH = "/opt/Nuke/Nuke15.1"\n\ndef pluginAddPath(path, addToSysPath=True):\n    pass\n'
            '\ndef addOnCreate(call, args=(), kwargs=None, nodeClass="*"):\n    pass\n'
            '\ndef addOnScriptLoad(call, args=(), kwargs=None, nodeClass="Root"):\n    pass\n')
PROBE = """
import json, sys, time
sys.path.insert(0, {stand_in!r})
import nuke
init = {init!r}
start = time.perf_counter()
exec(compile(open(init).read(), init, "exec"), {{"__file__": init, "__name__": "__main__"}})
took = (time.perf_counter() - start) * 1000
print(json.dumps({{"ms": took, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def plugin_folder(given: Optional[str] = None) -> Path:
    """The plugin folder whose init.py is measured: `given`, else the checkout this package runs from.

    An installed wheel has no init.py (the plugin folder Nuke loads is a checkout or a release
    folder on NUKE_PATH), so without one the error says where to point.
    """
    folder = Path(given).expanduser().resolve() if given else PLUGIN_ROOT
    if not (folder / "init.py").is_file():
        where = f"{folder} has no init.py" if given else "this nuke-comfyui is installed as a package, without init.py"
        raise ConfigError(f"bench --init-import measures the plugin folder's init.py, but {where}; give the folder "
                          "Nuke loads (the checkout on NUKE_PATH) with --plugin DIR")
    return folder


def measure(runs: int = 15, python: str = sys.executable, plugin: Optional[Path] = None) -> Dict[str, Any]:
    """Run init.py in `runs` fresh interpreters; median/min/max milliseconds and heavy imports seen."""
    init = (plugin or plugin_folder()) / "init.py"
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "nuke.py").write_text(STAND_IN)
        code = PROBE.format(stand_in=folder, init=str(init), heavy=HEAVY)
        times: List[float] = []
        heavy: List[str] = []
        for _ in range(runs):
            done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=False)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise ConfigError(f"init.py of {init.parent} failed in a fresh interpreter: {last}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            times.append(float(result["ms"]))
            heavy = sorted(set(heavy) | set(result["heavy"]))
    return {"runs": runs, "median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
            "goal_ms": GOAL_MS, "heavy_imports": heavy, "python": python}


def format_report(result: Dict[str, Any]) -> str:
    heavy = ", ".join(result["heavy_imports"]) or "none"
    return (f"init.py import time over {result['runs']} fresh interpreters: median {result['median_ms']:.1f} ms "
            f"(min {result['min_ms']:.1f}, max {result['max_ms']:.1f}); goal < {result['goal_ms']:.0f} ms\n"
            f"heavy modules loaded by init.py: {heavy}")
