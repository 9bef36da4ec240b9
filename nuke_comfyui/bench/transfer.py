"""`bench --transfer`: a 4K float EXR sequence through upload mode and shared mode on the simulator.

Production plates are 2K-4K float: a 4096 x 2160 RGB 32-bit EXR frame is about 106 MB. This
measures, in one run, against goals printed beside the figures (never asserted):
- the loopback's raw bandwidth (one TCP stream on 127.0.0.1, 1 MB sends), the yardstick;
- the client's own upload ceiling: the same streamed upload to a bare HTTP sink that only counts
  the bytes (what the client can send, whatever a server can take; goal: at least 0.5 of raw).
  The sink reads as the yardstick's reader does (recv_into one buffer), and the two are measured
  in interleaved pairs, so other processes' load on a shared machine weighs on both alike; the
  machine's load average is printed with them;
- upload mode: each upload's and download's own rate (bytes / the call's time), which a ComfyUI
  server's multipart parsing (aiohttp, in the simulator as in ComfyUI) bounds, and the render's
  frames per second;
- shared mode: the plate is already on the server's share, so the client should read none of it;
- for both: the client's peak RSS (goal: at most 2 frames + 100 MB, whatever the length: nothing
  holds a sequence or even a whole frame in memory), plate bytes the client read per frame
  (goal: at most one read of each plate), and uploads per frame (deduplicated: one).
The client runs in its own process (bench/transfer_client.py) so its memory figure is its own;
the simulated servers (0.33 profile: EXR in, SaveImageAdvanced EXR out) run in another.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from nuke_comfyui.bench.farm import FarmShape, SimFarmProcess

WIDTH, HEIGHT = 4096, 2160
GOAL_UPLOAD_SHARE = 0.5
GOAL_RSS_EXTRA_MB = 100.0
LOOPBACK_MB = 1024


def loopback_mb_per_s(megabytes: int = LOOPBACK_MB) -> float:
    """Raw TCP bandwidth on 127.0.0.1: one stream, 1 MB sends, a reader thread draining it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = [0]

    def drain() -> None:
        conn, _ = server.accept()
        buffer = bytearray(1 << 20)
        with conn:
            while True:
                count = conn.recv_into(buffer)
                if not count:
                    return
                received[0] += count

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    block = b"\0" * (1 << 20)
    with socket.create_connection(server.getsockname()) as sender:
        started = time.perf_counter()
        for _ in range(megabytes):
            sender.sendall(block)
        sender.shutdown(socket.SHUT_WR)
        reader.join(60)
        elapsed = time.perf_counter() - started
    server.close()
    return received[0] / elapsed / 1e6


def sink_upload_mb_per_s(path: Path, repeats: int = 3) -> float:
    """The client's streamed upload of `path` to a bare HTTP sink on loopback: `repeats` uploads,
    their bytes over their time."""
    from nuke_comfyui.core.comfy.client import ComfyClient
    from nuke_comfyui.core.comfy.upload_body import UploadFile
    from nuke_comfyui.core.config import ServerConfig

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    threading.Thread(target=_sink, args=(server,), daemon=True).start()
    client = ComfyClient(ServerConfig(name="sink", url=f"http://127.0.0.1:{server.getsockname()[1]}"),
                         read_timeout=120.0)
    try:
        started = time.perf_counter()
        for _ in range(repeats):
            client.upload_image(UploadFile(str(path)), path.name)
        elapsed = time.perf_counter() - started
    finally:
        client.close()
        server.close()
    return repeats * path.stat().st_size / elapsed / 1e6


def upload_ceiling(path: Path, samples: int = 5, uploads: int = 3, megabytes: int = LOOPBACK_MB) -> Dict[str, Any]:
    """The client's upload ceiling against raw loopback, in interleaved pairs (a loopback run, then
    `uploads` uploads to the sink) so that load from other processes weighs on both alike; each
    figure is the median of its samples, the share the median of the pairs' ratios."""
    pairs = [(loopback_mb_per_s(megabytes), sink_upload_mb_per_s(path, uploads)) for _ in range(samples)]
    return {"loopback_mb_per_s": round(statistics.median(raw for raw, _ in pairs), 1),
            "client_upload_ceiling_mb_per_s": round(statistics.median(sink for _, sink in pairs), 1),
            "upload_share_of_loopback": round(statistics.median(sink / raw for raw, sink in pairs), 3),
            "ceiling_samples": [[round(raw), round(sink)] for raw, sink in pairs]}


def _sink(server: socket.socket) -> None:
    """Answer each request like /upload/image after reading (and dropping) its Content-Length bytes,
    into one reused buffer as loopback_mb_per_s's reader does (the yardstick and the sink alike)."""
    answer = b'{"name": "x.exr", "subfolder": "", "type": "input"}'
    buffer = bytearray(1 << 20)
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(65536)
            head, body = head.split(b"\r\n\r\n", 1)
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            got = len(body)
            while got < length:
                count = conn.recv_into(buffer)
                if not count:
                    break
                got += count
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(answer) + answer)


def write_plates(folder: Path, frames: int, width: int = WIDTH, height: int = HEIGHT) -> int:
    """A float RGB EXR per frame (a gradient with grain, ZIP as Nuke's Write does); returns one's size."""
    import OpenEXR

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(21)
    ramp = np.linspace(0.0, 4.0, width, dtype=np.float32)[None, :].repeat(height, 0)
    for frame in range(1, frames + 1):
        grain = rng.normal(0.0, 0.02, (height, width)).astype(np.float32)
        channels = {name: np.ascontiguousarray(ramp * scale + grain + frame * 0.01)
                    for name, scale in (("R", 1.0), ("G", 0.7), ("B", 0.4))}
        with OpenEXR.File({"compression": OpenEXR.ZIPS_COMPRESSION, "type": OpenEXR.scanlineimage},
                          channels) as exr:
            exr.write(str(folder / f"plate.{frame:04d}.exr"))
    return (folder / "plate.0001.exr").stat().st_size


def _client(urls: List[str], mode: str, plates: Path, frames: int, output: Path, *,
            shares: List[str]) -> Dict[str, Any]:
    command = [sys.executable, "-m", "nuke_comfyui.bench.transfer_client", "--urls", ",".join(urls), "--mode", mode,
               "--plates", str(plates), "--frames", f"1-{frames}", "--output", str(output)]
    if shares:
        command += ["--shares", ",".join(shares)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the transfer client failed: {done.stderr.strip()[-600:]}")
    figures: Dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _summary(raw: Dict[str, Any], frame_bytes: int, frames: int) -> Dict[str, Any]:
    mb = 1e6
    return {
        "state": raw["state"], "frames": frames, "makespan_s": round(raw["makespan_s"], 2),
        "frames_per_s": round(frames / raw["makespan_s"], 2),
        "upload_mb_per_s": round(raw["upload_bytes"] / raw["upload_s"] / mb, 1) if raw["upload_s"] else None,
        "download_mb_per_s": round(raw["download_bytes"] / raw["download_s"] / mb, 1) if raw["download_s"] else None,
        "uploads_per_frame": round(raw["uploads"] / frames, 2),
        "plate_mb_read_per_frame": round(raw["plate_bytes_read"] / frames / mb, 1),
        "plate_reads_per_frame": round(raw["plate_bytes_read"] / frames / frame_bytes, 2),
        "peak_rss_mb": round(raw["peak_rss_bytes"] / mb, 1),
        "errors": raw["errors"],
    }


def run_transfer(work: Path, frames: int = 8, width: int = WIDTH, height: int = HEIGHT,
                 log: Callable[[str], None] = print) -> Dict[str, Any]:
    load_before = _load_average()
    log(f"[transfer] writing {frames} float EXR frames of {width}x{height} ...")
    plates = work / "plates"
    frame_bytes = write_plates(plates, frames, width, height)
    log("[transfer] the client's upload ceiling (a bare HTTP sink) against loopback raw bandwidth ...")
    figures: Dict[str, Any] = {**upload_ceiling(plates / "plate.0001.exr"), "frame_mb": round(frame_bytes / 1e6, 1),
                               "width": width, "height": height, "goal_upload_share": GOAL_UPLOAD_SHARE,
                               "goal_peak_rss_mb": round(2 * frame_bytes / 1e6 + GOAL_RSS_EXTRA_MB, 1)}
    raw = figures["loopback_mb_per_s"]
    shape = FarmShape((1.0, 1.0), 0.0, lean=True, comfy_version="0.33.0")
    log("[transfer] upload mode: 2 simulated 0.33 servers ...")
    with SimFarmProcess(shape, work / "farm-upload") as farm:
        figures["upload"] = _summary(_client(farm.urls, "upload", plates, frames, work / "out-upload", shares=[]),
                                     frame_bytes, frames)
    log("[transfer] shared mode: the plates on the server's share ...")
    with SimFarmProcess(FarmShape((1.0,), 0.0, lean=True, comfy_version="0.33.0"), work / "farm-shared") as farm:
        share = work / "farm-shared" / "servers-1-on" / "server0"
        shared_plates = share / "input" / "plates"
        shared_plates.parent.mkdir(parents=True, exist_ok=True)
        plates.rename(shared_plates)
        figures["shared"] = _summary(_client(farm.urls, "shared", shared_plates, frames, work / "out-shared",
                                             shares=[str(share)]), frame_bytes, frames)
    upload_rate = figures["upload"]["upload_mb_per_s"]
    figures["sim_upload_share_of_loopback"] = round(upload_rate / raw, 3) if upload_rate else None
    figures["load_average"] = [load_before, _load_average()]
    return figures


def _load_average() -> Optional[float]:
    """The machine's 1-minute load average (None where the OS has none): the figures' context."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _samples(figures: Dict[str, Any]) -> str:
    pairs = figures.get("ceiling_samples") or []
    return f"{len(pairs)} interleaved pairs: " + ", ".join(f"{raw}/{sink}" for raw, sink in pairs) if pairs else "-"


def _load(figures: Dict[str, Any]) -> str:
    loads = [value for value in figures.get("load_average") or [] if value is not None]
    return " -> ".join(f"{value:.1f}" for value in loads) or "unknown"


def format_transfer(figures: Dict[str, Any]) -> str:
    goal_rss = figures["goal_peak_rss_mb"]
    lines = [f"transfer: {figures['width']}x{figures['height']} 32-bit float EXR, {figures['frame_mb']} MB a frame; "
             f"loopback raw {figures['loopback_mb_per_s']:.0f} MB/s; the client's streamed upload to a bare sink "
             f"{figures['client_upload_ceiling_mb_per_s']:.0f} MB/s (medians of {_samples(figures)}); "
             f"load average {_load(figures)} on {os.cpu_count()} cores",
             f"  {'mode':<8}{'state':>11}{'frames/s':>10}{'upload':>14}{'download':>14}{'uploads/fr':>12}"
             f"{'plate MB read/fr':>18}{'peak RSS':>12}"]
    for mode in ("upload", "shared"):
        fig = figures[mode]
        up = "-" if fig["upload_mb_per_s"] is None else f"{fig['upload_mb_per_s']:.0f} MB/s"
        down = "-" if fig["download_mb_per_s"] is None else f"{fig['download_mb_per_s']:.0f} MB/s"
        lines.append(f"  {mode:<8}{fig['state']:>11}{fig['frames_per_s']:>10.2f}{up:>14}{down:>14}"
                     f"{fig['uploads_per_frame']:>12.2f}{fig['plate_mb_read_per_frame']:>18.1f}"
                     f"{fig['peak_rss_mb']:>9.0f} MB")
    share = figures.get("upload_share_of_loopback")
    met = "met" if share is not None and share >= GOAL_UPLOAD_SHARE else "NOT met"
    lines.append(f"  goal the client uploads at >= {GOAL_UPLOAD_SHARE} of loopback: {share} ({met}); into the "
                 f"simulator's aiohttp upload route {figures.get('sim_upload_share_of_loopback')} (the server's "
                 "multipart parsing bounds it, as in ComfyUI)")
    for mode in ("upload", "shared"):
        fig = figures[mode]
        rss_met = "met" if fig["peak_rss_mb"] <= goal_rss else "NOT met"
        reads_met = "met" if fig["plate_reads_per_frame"] <= 1.0 else "NOT met"
        lines.append(f"  goal {mode}: peak RSS <= {goal_rss:.0f} MB (2 frames + 100 MB): {fig['peak_rss_mb']:.0f} MB "
                     f"({rss_met}); each plate read at most once: {fig['plate_reads_per_frame']:.2f} reads a frame "
                     f"({reads_met})")
    return "\n".join(lines)
