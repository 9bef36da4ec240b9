"""The benchmark farm: simulated ComfyUI servers in a child process.

A separate process keeps the farm's CPU out of the client's figures (client CPU per job is one of
the measured numbers) and keeps the GIL of the servers away from the dispatcher under test. The
child's own CPU time is read too, so the report can show what the test bed spent per job beside
what the client spent.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from nuke_comfyui.core.errors import NukeComfyError


@dataclass(frozen=True)
class FarmShape:
    """What the simulated servers do: speeds, cost per step and the benchmark workload flags."""

    speeds: Sequence[float]
    seconds_per_step: float
    slow_to: Optional[Sequence[Optional[float]]] = None  # per server; None = keeps its speed
    slow_after_s: float = 0.0
    heavy_every: int = 0
    heavy_factor: float = 1.0
    lean: bool = False

    def arguments(self) -> List[str]:
        args = ["--servers", str(len(self.speeds)), "--speeds", ",".join(str(s) for s in self.speeds),
                "--seconds-per-step", str(self.seconds_per_step)]
        if self.slow_to is not None:
            args += ["--slow-to", ",".join("" if s is None else str(s) for s in self.slow_to),
                     "--slow-after", str(self.slow_after_s)]
        if self.heavy_every:
            args += ["--heavy-every", str(self.heavy_every), "--heavy-factor", str(self.heavy_factor)]
        if self.lean:
            args.append("--lean")
        return args


class SimFarmProcess:
    """`nuke-comfyui sim` in a child process; `urls` once every server answers."""

    def __init__(self, shape: FarmShape, base_dir: Path) -> None:
        self.shape = shape
        self.base_dir = base_dir
        self.urls: List[str] = []
        self._process: Optional[subprocess.Popen] = None

    def __enter__(self) -> SimFarmProcess:
        command = [sys.executable, "-m", "nuke_comfyui", "sim", "--port", "0", "--base-dir", str(self.base_dir),
                   *self.shape.arguments()]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        assert self._process.stdout is not None
        while len(self.urls) < len(self.shape.speeds):
            line = self._process.stdout.readline()
            if not line:
                error = self._process.stderr.read() if self._process.stderr else ""
                raise NukeComfyError(f"the simulated farm did not start: {error.strip() or 'no output'}")
            if line.startswith("http://"):
                self.urls.append(line.strip())
            if time.monotonic() > deadline:
                raise NukeComfyError("the simulated farm did not answer within 60 s")
        return self

    def cpu_seconds(self) -> Optional[float]:
        """CPU time (user + system) the farm process has used so far; None where /proc is absent."""
        if self._process is None:
            return None
        try:
            fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
