"""`nuke-comfyui bench`: the scheduling benchmark (push baselines vs pull with every strategy).

`nuke-comfyui bench --init-import` instead measures what the plugin's init.py adds to Nuke's
start-up (nuke_comfyui.bench.init_import).

Figures are printed, never asserted: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "benchmark the dispatch designs on a simulated heterogeneous farm and print the figures"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--jobs", type=int, default=120, help="jobs per design (default 120)")
    parser.add_argument("--no-big-group", action="store_true", help="skip the 10,000-job group measurement")
    parser.add_argument("--init-import", action="store_true",
                        help="measure init.py's import time instead (fresh interpreters; prints ms)")
    parser.add_argument("--runs", type=int, default=15, help="interpreters for --init-import (default 15)")


def run(args: argparse.Namespace) -> int:
    if args.init_import:
        from nuke_comfyui.bench import init_import

        result = init_import.measure(runs=args.runs)
        print(json.dumps(result) if args.json else init_import.format_report(result))
        return 0
    from nuke_comfyui.bench.runner import format_report, run_benchmark, to_json

    results = run_benchmark(jobs=args.jobs, include_big=not args.no_big_group,
                            log=lambda text: print(text, file=sys.stderr))
    print(to_json(results) if args.json else format_report(results))
    return 0
