"""`nuke-comfyui bench`: the scheduling benchmark (push baselines vs pull with every strategy).

`nuke-comfyui bench --init-import` instead measures what the plugin's init.py adds to Nuke's
start-up (nuke_comfyui.bench.init_import); `--temporal` the figures of frame batches
(nuke_comfyui.bench.temporal); `--previews` the client CPU the live view costs per job
(nuke_comfyui.bench.previews); `--transfer` moves a 4K float EXR sequence through upload and shared
mode (nuke_comfyui.bench.transfer).

Figures are printed, never asserted: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Sequence, Tuple

HELP = "benchmark the dispatch designs on simulated farms and print the figures"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nuke_comfyui.bench.scenarios import SUITE

    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--jobs", type=int, default=None,
                        help="jobs in the headline farm-120 run (default 120); with --throughput, jobs per run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per design (with --temporal, per run); the median is reported (default 3)")
    parser.add_argument("--no-big-group", action="store_true", help="skip the 10,000-job group measurement")
    parser.add_argument("--suite", action="store_true", help=f"run every named scenario: {', '.join(SUITE)}")
    parser.add_argument("--scenario", action="append", default=[], choices=list(SUITE), metavar="NAME",
                        help="run one named scenario besides the headline (repeatable)")
    parser.add_argument("--throughput", action="store_true",
                        help="only the client's throughput ceiling on near-instant servers")
    parser.add_argument("--servers", default=None, metavar="N[,N...]",
                        help="--throughput: server counts to measure (default 4,100; with --jobs, every pair)")
    parser.add_argument("--designs", default=None, metavar="NAME[,NAME...]",
                        help="--throughput: designs to run (pull-fastest, push-round-robin; default both)")
    parser.add_argument("--init-import", action="store_true",
                        help="only init.py's import time (fresh interpreters; prints ms)")
    parser.add_argument("--runs", type=int, default=15, help="interpreters for --init-import (default 15)")
    parser.add_argument("--plugin", default=None, metavar="DIR",
                        help="--init-import: the plugin folder holding init.py (default: this checkout)")
    parser.add_argument("--temporal", action="store_true",
                        help="only frame batches: the overlap's overhead and a 100-frame shot on 4 servers vs 1 batch")
    parser.add_argument("--previews", action="store_true",
                        help="only the client CPU per job with live previews flowing, watched or not "
                             "(--jobs per run, default 100; --repeats)")
    parser.add_argument("--transfer", action="store_true",
                        help="only the plate transfer: a 4K float EXR sequence in upload and shared mode "
                             "(MB/s against raw loopback, the client's peak RSS, plate bytes read per frame)")
    parser.add_argument("--frames", type=int, default=8, help="--transfer: frames in the sequence (default 8)")


def throughput_plan(jobs: Optional[int], servers: Optional[str],
                    designs: Optional[str]) -> Tuple[Sequence[Tuple[int, int]], Sequence[str]]:
    """(jobs, servers) pairs and designs of a `--throughput` run; the defaults without options."""
    from nuke_comfyui.bench.throughput import DESIGNS, RUNS
    from nuke_comfyui.core.errors import ConfigError

    counts: List[int] = []
    for part in (servers or "").split(","):
        if part.strip():
            if not part.strip().isdigit() or int(part) < 1:
                raise ConfigError(f"--servers {servers!r}: give server counts of at least 1, e.g. --servers 4,100")
            counts.append(int(part))
    chosen = [d.strip() for d in (designs or "").split(",") if d.strip()] or list(DESIGNS)
    unknown = [d for d in chosen if d not in DESIGNS]
    if unknown:
        raise ConfigError(f"--designs: unknown {', '.join(unknown)}; use {', '.join(DESIGNS)}")
    if jobs is None and not counts:
        return RUNS, chosen
    return [(jobs or 1000, count) for count in (counts or [4, 100])], chosen


def _check_counts(args: argparse.Namespace) -> None:
    """--repeats (and --jobs, where given) count runs and jobs: at least 1 each."""
    if args.repeats < 1 or (args.jobs is not None and args.jobs < 1):
        from nuke_comfyui.core.errors import ConfigError

        raise ConfigError("--repeats and --jobs must be at least 1")


def run(args: argparse.Namespace) -> int:
    if args.temporal:
        import json

        from nuke_comfyui.bench.temporal import format_temporal, run_temporal

        _check_counts(args)
        figures = run_temporal(lambda text: print(text, file=sys.stderr, flush=True), repeats=args.repeats)
        print(json.dumps(figures, indent=2) if args.json else format_temporal(figures))
        return 0
    if args.init_import:
        import json

        from nuke_comfyui.bench import init_import

        result = init_import.measure(runs=args.runs, plugin=init_import.plugin_folder(args.plugin))
        print(json.dumps(result) if args.json else init_import.format_report(result))
        return 0
    if args.transfer:
        return _transfer(args)
    import tempfile
    from pathlib import Path

    from nuke_comfyui.cli.extras import require_sim

    require_sim()  # the farms are simulated
    from nuke_comfyui.bench.report import format_report
    from nuke_comfyui.bench.runner import WORKFLOW, run_benchmark, to_json
    from nuke_comfyui.bench.throughput import run_throughput
    _check_counts(args)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    if args.previews:
        from nuke_comfyui.bench.previews import format_previews, run_previews

        with tempfile.TemporaryDirectory(prefix="nuke-comfyui-previews-") as temp:
            result = run_previews(Path(temp), WORKFLOW, jobs=args.jobs or 100, repeats=args.repeats, log=log)
        print(to_json({"previews": result}) if args.json else format_previews(result))
        return 0
    if args.throughput:
        runs, designs = throughput_plan(args.jobs, args.servers, args.designs)
        with tempfile.TemporaryDirectory(prefix="nuke-comfyui-throughput-") as temp:
            results = {"throughput": run_throughput(Path(temp), WORKFLOW, runs=runs, designs=designs, log=log)}
    else:
        results = run_benchmark(jobs=args.jobs, repeats=args.repeats, include_big=not args.no_big_group,
                                suite=args.suite, scenarios=args.scenario, log=log)
    print(to_json(results) if args.json else format_report(results))
    return 0


def _transfer(args: argparse.Namespace) -> int:
    import json
    import tempfile
    from pathlib import Path

    from nuke_comfyui.bench.transfer import format_transfer, run_transfer
    from nuke_comfyui.core.errors import ConfigError

    if args.frames < 1:
        raise ConfigError(f"--frames {args.frames}: give at least 1 frame")
    with tempfile.TemporaryDirectory(prefix="nuke-comfyui-transfer-") as temp:
        figures = run_transfer(Path(temp), frames=args.frames,
                               log=lambda text: print(text, file=sys.stderr, flush=True))
    print(json.dumps(figures, indent=2) if args.json else format_transfer(figures))
    return 0
