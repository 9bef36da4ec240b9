"""The client side of `bench --transfer`, run in its own process so its peak RSS is its own.

It renders a float EXR sequence through the real Farm (scheduler, streamed uploads, downloads or
shared-storage copies) on the simulated servers it is given, and counts, without changing what it
measures: the time and bytes of each upload and download call, every byte read from a plate file
(a proxy around `open` for files under the plate folder, and the bytes `socket.sendfile` moved
from such a file: uploads send plates by the kernel's sendfile), and its own peak resident memory
(VmHWM). It prints one JSON object. Run by nuke_comfyui.bench.transfer.
"""

from __future__ import annotations

import argparse
import builtins
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

IDENTITY = {"1": {"class_type": "LoadImage", "inputs": {"image": "plate.exr"}, "_meta": {"title": "Nuke Input"}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "bench"}}}


class Counters:
    """Bytes and seconds of the calls being measured (thread-safe: the scheduler's workers call them)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: Dict[str, float] = {"upload_bytes": 0, "upload_s": 0.0, "uploads": 0, "download_bytes": 0,
                                         "download_s": 0.0, "downloads": 0, "plate_bytes_read": 0}

    def add(self, **amounts: float) -> None:
        with self.lock:
            for key, value in amounts.items():
                self.values[key] += value


class _CountingFile:
    """A file object whose reads are counted (everything else is the real file's)."""

    def __init__(self, inner: Any, counters: Counters) -> None:
        self._inner, self._counters = inner, counters

    def read(self, *args: Any) -> Any:
        data = self._inner.read(*args)
        self._counters.add(plate_bytes_read=len(data))
        return data

    def readinto(self, buffer: Any) -> Any:
        count = self._inner.readinto(buffer)
        self._counters.add(plate_bytes_read=count or 0)
        return count

    def __enter__(self) -> _CountingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()

    def __iter__(self) -> Any:
        return iter(self._inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def instrument(counters: Counters, plates: Path) -> None:
    """Count plate reads, and the duration and size of every upload and download call."""
    from nuke_comfyui.core.comfy.client import ComfyClient

    real_open = builtins.open
    folder = str(plates.resolve())

    def counting_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        if isinstance(file, (str, Path)) and "r" in mode and os.path.abspath(str(file)).startswith(folder):
            return _CountingFile(handle, counters)
        return handle

    builtins.open = counting_open  # type: ignore[assignment]
    real_sendfile = socket.socket.sendfile

    def counting_sendfile(self: socket.socket, file: Any, offset: int = 0, count: Optional[int] = None) -> int:
        sent = real_sendfile(self, file, offset, count)
        if isinstance(file, _CountingFile):  # the kernel read these plate bytes for us: they count
            counters.add(plate_bytes_read=sent)
        return sent

    socket.socket.sendfile = counting_sendfile  # type: ignore[method-assign]
    upload, download = ComfyClient.upload_image, ComfyClient.download

    def timed_upload(self: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = upload(self, data, *args, **kwargs)
        size = getattr(data, "size", None) or len(data)
        counters.add(upload_bytes=size, upload_s=time.perf_counter() - started, uploads=1)
        return result

    def timed_download(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        path = download(self, *args, **kwargs)
        counters.add(download_bytes=os.path.getsize(path), download_s=time.perf_counter() - started, downloads=1)
        return path

    ComfyClient.upload_image = timed_upload  # type: ignore[method-assign]
    ComfyClient.download = timed_download  # type: ignore[method-assign]


def peak_rss_bytes() -> int:
    """This process's peak resident memory: VmHWM (the high-water mark of its own address space,
    reset by exec), since ru_maxrss on Linux keeps the parent's peak across fork and exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="nuke_comfyui.bench.transfer_client")
    parser.add_argument("--urls", required=True)
    parser.add_argument("--mode", choices=("upload", "shared"), required=True)
    parser.add_argument("--shares", default="", help="each server's ComfyUI root (shared mode)")
    parser.add_argument("--plates", required=True)
    parser.add_argument("--frames", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)

    from nuke_comfyui.core.config import ClusterConfig, ServerConfig
    from nuke_comfyui.core.farm import Farm
    from nuke_comfyui.core.render_request import RenderRequest

    counters = Counters()
    instrument(counters, Path(args.plates))
    shares = args.shares.split(",") if args.shares else []
    servers = [ServerConfig(name=f"s{i + 1}", url=url, transfer=args.mode,
                            dir_local=shares[i] if shares else "", dir_remote=shares[i] if shares else "")
               for i, url in enumerate(args.urls.split(","))]
    workflow = Path(args.output) / "identity.json"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(json.dumps(IDENTITY))
    request = RenderRequest(workflow_path=str(workflow), output_dir=args.output,
                            input_pattern=str(Path(args.plates) / "plate.####.exr"), frames=args.frames,
                            pixels={"encoding": "linear", "plate": "exr", "results": "exr"}, timeout=600.0)
    farm = Farm.from_config(ClusterConfig(servers=servers, poll_interval=0.5, job_timeout=600.0),
                            journal_path=Path(args.output) / "journal.sqlite3")
    with farm:
        started = time.perf_counter()
        snapshot = farm.scheduler.wait(farm.scheduler.submit(request), timeout=3600)
        makespan = time.perf_counter() - started
    outputs = [path for job in snapshot.jobs for path in job.outputs]
    print(json.dumps({"state": snapshot.state.value, "makespan_s": makespan, "frames": snapshot.total,
                      "results": len(outputs), "result_bytes": sum(os.path.getsize(p) for p in outputs),
                      "errors": [job.error for job in snapshot.jobs if job.error][:3],
                      "peak_rss_bytes": peak_rss_bytes(),
                      **counters.values}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
