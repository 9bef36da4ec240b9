"""`nuke-comfyui sim`: run N simulated ComfyUI servers on 127.0.0.1 until interrupted.

This is the demo cluster and the farm for benchmarks and manual testing of the plugin. It prints
one URL per line only once every server answers HTTP (probed with GET /system_stats), so a
script can start it in the background and read the URLs as a readiness signal.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Callable, List, Optional

from nuke_comfyui.core.errors import ConfigError

HELP = "run a simulated ComfyUI cluster on 127.0.0.1 (test bed, demo and benchmark farm)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--servers", type=int, default=3, help="number of servers (default 3)")
    parser.add_argument(
        "--port", type=int, default=8188, help="first port; servers use P..P+N-1 (0 = any free)"
    )
    parser.add_argument("--speeds", default=None, help="relative speed per server, e.g. 1,1,2,4")
    parser.add_argument("--vram-gb", default=None, help="simulated GPU memory per server (GB); empty = CPU")
    parser.add_argument("--fail-rate", default=None, help="fraction of prompts ending in execution_error")
    parser.add_argument("--crash-after", default=None, help="crash while executing the K-th accepted prompt")
    parser.add_argument("--hang-after", default=None, help="prompts after the K-th never finish")
    parser.add_argument("--drop-ws-after", default=None, help="close every WebSocket every K prompts")
    parser.add_argument(
        "--missing-nodes",
        default=None,
        help='class types a server lacks, e.g. "KSampler+VAEDecode,," (per server)',
    )
    parser.add_argument(
        "--seconds-per-step", type=float, default=0.05, help="sampler cost per step at speed 1"
    )
    parser.add_argument(
        "--comfy-version",
        default=None,
        help="ComfyUI release to behave like, e.g. 0.3.40 or 0.3.40,0.8.2 (per server; default 0.8.0)",
    )
    parser.add_argument(
        "--base-dir", default=None, help="folder for the servers' ComfyUI roots (default: temp)"
    )
    parser.add_argument("--previews", default=None, metavar="METHOD",
                        help="send live previews like --preview-method: latent2rgb or taesd (per server)")
    parser.add_argument("--preview-every", type=int, default=1, help="sampler steps per preview (default 1)")
    bench = parser.add_argument_group("benchmark workloads (see nuke_comfyui/sim/workload.py)")
    bench.add_argument("--slow-to", default=None, help="speed a server drops to (per server), e.g. ,,,1")
    bench.add_argument("--slow-after", type=float, default=0.0,
                       help="seconds after its first prompt starts that a server slows to --slow-to")
    bench.add_argument("--heavy-every", type=int, default=0, help="every K-th seed costs --heavy-factor times")
    bench.add_argument("--heavy-factor", type=float, default=1.0, help="cost of a heavy job (default 1)")
    bench.add_argument("--lean", action="store_true", help="send no progress/progress_state frames")


def _per_server(raw: Optional[str], count: int, name: str, convert: Callable[[str], Any]) -> Any:
    """Parse "a" (all servers) or "a,b,c" (one per server; empty = default) into a value or list."""
    if raw is None:
        return None
    parts = raw.split(",")
    try:
        values = [convert(p.strip()) if p.strip() else None for p in parts]
    except ValueError as exc:
        raise ConfigError(f"--{name}: cannot read {raw!r} ({exc}); give one value or a comma list") from exc
    if len(values) == 1:
        return values[0]
    if len(values) != count:
        raise ConfigError(
            f"--{name}: {len(values)} values for {count} servers; give one value or one per server"
        )
    return values


def _release(text: str) -> str:
    from nuke_comfyui.sim.profiles import parse

    parse(text)  # ValueError names the expected form
    return text


def _missing(raw: Optional[str], count: int) -> Any:
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) == 1:
        return parts[0]
    if len(parts) != count:
        raise ConfigError(f"--missing-nodes: {len(parts)} entries for {count} servers; use one per server")
    return parts


def _workloads(args: argparse.Namespace, count: int) -> Any:
    """One `Workload` per server from the benchmark flags (None when none is given)."""
    from nuke_comfyui.sim.workload import Workload

    slow = _per_server(args.slow_to, count, "slow-to", float)
    if slow is None and not args.heavy_every and not args.lean:
        return None
    slow_list = slow if isinstance(slow, list) else [slow] * count
    try:
        return [Workload(slow_to=s, slow_after_s=args.slow_after, heavy_every=args.heavy_every,
                         heavy_factor=args.heavy_factor, lean=args.lean) for s in slow_list]
    except ValueError as exc:
        raise ConfigError(f"sim workload: {exc}") from exc


def wait_until_answering(urls: List[str], timeout: float = 30.0) -> None:
    """Block until every URL answers GET /system_stats with 200 (a bound port is not yet 'ready')."""
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            try:
                with urllib.request.urlopen(url + "/system_stats", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"simulated server {url} did not answer within {timeout:.0f}s; is the port free?"
                )
            time.sleep(0.05)


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.cli.extras import require_sim

    require_sim()
    from nuke_comfyui.sim.cluster import SimCluster

    count = args.servers
    if count < 1:
        raise ConfigError("--servers must be at least 1")
    base = args.base_dir or tempfile.mkdtemp(prefix="nuke-comfyui-sim-")
    options = {
        "speeds": _per_server(args.speeds, count, "speeds", float),
        "vram_gb": _per_server(args.vram_gb, count, "vram-gb", float),
        "fail_rate": _per_server(args.fail_rate, count, "fail-rate", float),
        "crash_after": _per_server(args.crash_after, count, "crash-after", int),
        "hang_after": _per_server(args.hang_after, count, "hang-after", int),
        "drop_ws_after": _per_server(args.drop_ws_after, count, "drop-ws-after", int),
        "missing_nodes": _missing(args.missing_nodes, count),
        "seconds_per_step": args.seconds_per_step,
        "comfy_version": _per_server(args.comfy_version, count, "comfy-version", _release),
        "workload": _workloads(args, count),
        "previews": _per_server(args.previews, count, "previews", str),
        "preview_every": args.preview_every,
    }
    try:
        cluster = SimCluster(count, base_dir=base, port=args.port, **options)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    try:
        cluster.start()
    except OSError as exc:
        raise ConfigError(
            f"cannot bind ports {args.port}..{args.port + count - 1}: {exc}; pick another --port"
        ) from exc
    try:
        wait_until_answering(cluster.urls)
        for url in cluster.urls:
            print(url, flush=True)
        print(f"# base dir {base}; Ctrl-C to stop", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.close()
