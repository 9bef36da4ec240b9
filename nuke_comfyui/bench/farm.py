"""The benchmark farm: simulated ComfyUI servers in a child process.

A separate process keeps the farm's CPU out of the client's figures (client CPU per job is one of
the measured numbers) and keeps the GIL of the servers away from the dispatcher under test.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence

from nuke_comfyui.core.errors import NukeComfyError


class SimFarmProcess:
    """`nuke-comfyui sim` in a child process; `urls` once every server answers."""

    def __init__(self, speeds: Sequence[float], seconds_per_step: float, base_dir: Path) -> None:
        self.speeds = list(speeds)
        self.seconds_per_step = seconds_per_step
        self.base_dir = base_dir
        self.urls: List[str] = []
        self._process: Optional[subprocess.Popen] = None

    def __enter__(self) -> SimFarmProcess:
        command = [sys.executable, "-m", "nuke_comfyui", "sim", "--servers", str(len(self.speeds)), "--port", "0",
                   "--speeds", ",".join(str(s) for s in self.speeds),
                   "--seconds-per-step", str(self.seconds_per_step), "--base-dir", str(self.base_dir)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        assert self._process.stdout is not None
        while len(self.urls) < len(self.speeds):
            line = self._process.stdout.readline()
            if not line:
                error = self._process.stderr.read() if self._process.stderr else ""
                raise NukeComfyError(f"the simulated farm did not start: {error.strip() or 'no output'}")
            if line.startswith("http://"):
                self.urls.append(line.strip())
            if time.monotonic() > deadline:
                raise NukeComfyError("the simulated farm did not answer within 60 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
