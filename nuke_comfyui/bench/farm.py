"""The benchmark farm: simulated ComfyUI servers in a child process.

A separate process keeps the farm's CPU out of the client's figures (client CPU per job is one of
the measured numbers) and keeps the GIL of the servers away from the dispatcher under test. The
child's own CPU time is read too, so the report can show what the test bed spent per job beside
what the client spent.

A farm of more than `SERVERS_PER_PROCESS` servers is split over two child processes: one
simulator process runs all its servers on one event loop, so a big fast farm (16 servers of
speeds 1-8, or 100 servers) asks it for more than one core at full rate, and every job then
waits in that loop's queue: a test-bed limit, not the dispatcher's. (Real ComfyUI servers are
separate machines.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from nuke_comfyui.core.errors import NukeComfyError

SERVERS_PER_PROCESS = 8
MAX_PROCESSES = 2  # the development machine has two cores, and the client needs its share


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
    previews: Optional[str] = None  # a preview method the servers send previews with (sim/previews.py)
    comfy_version: Optional[str] = None  # the ComfyUI release the servers behave like (sim/profiles.py)

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
        if self.previews:
            args += ["--previews", self.previews]
        if self.comfy_version:
            args += ["--comfy-version", self.comfy_version]
        return args

    def split(self) -> List[Tuple[FarmShape, int]]:
        """The shapes of the child processes, each with the index of its first server."""
        count = len(self.speeds)
        parts = 1 if count <= SERVERS_PER_PROCESS else MAX_PROCESSES
        bounds = [round(i * count / parts) for i in range(parts + 1)]
        return [(FarmShape(self.speeds[a:b], self.seconds_per_step,
                           None if self.slow_to is None else self.slow_to[a:b], self.slow_after_s,
                           self.heavy_every, self.heavy_factor, self.lean, self.previews, self.comfy_version), a)
                for a, b in zip(bounds, bounds[1:])]


class SimFarmProcess:
    """`nuke-comfyui sim` in one or two child processes; `urls` (in server order) once every server answers."""

    def __init__(self, shape: FarmShape, base_dir: Path) -> None:
        self.shape = shape
        self.base_dir = base_dir
        self.urls: List[str] = []
        self._processes: List[subprocess.Popen] = []

    def __enter__(self) -> SimFarmProcess:
        try:
            for part, first in self.shape.split():
                command = [sys.executable, "-m", "nuke_comfyui", "sim", "--port", "0", "--base-dir",
                           str(self.base_dir / f"servers-{first + 1}-on"), *part.arguments()]
                process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                self._processes.append(process)
                self.urls += self._read_urls(process, len(part.speeds))
        except BaseException:
            self.__exit__()
            raise
        return self

    @staticmethod
    def _read_urls(process: subprocess.Popen, count: int) -> List[str]:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        urls: List[str] = []
        while len(urls) < count:
            line = process.stdout.readline()
            if not line:
                error = process.stderr.read() if process.stderr else ""
                raise NukeComfyError(f"the simulated farm did not start: {error.strip() or 'no output'}")
            if line.startswith("http://"):
                urls.append(line.strip())
            if time.monotonic() > deadline:
                raise NukeComfyError("the simulated farm did not answer within 60 s")
        return urls

    def cpu_seconds(self) -> Optional[float]:
        """CPU time (user + system) the farm's processes have used so far; None where /proc is absent."""
        if not self._processes:
            return None
        total = 0.0
        for process in self._processes:
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def __exit__(self, *exc: object) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self._processes = []
