"""`nuke-comfyui groups`: list the job groups in the journal (newest first).

Needs no server: it only reads the per-user journal, so it works while a render runs elsewhere.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from typing import Any, Dict, List

HELP = "list journaled job groups (id, state, progress, label)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=20, help="show at most this many (default 20)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--journal", default=None, help=argparse.SUPPRESS)


def collect(journal: Any, limit: int) -> List[Dict[str, Any]]:
    rows = []
    for group in journal.groups(limit=limit):
        states = Counter(job.state for job in journal.jobs(group.id))
        rows.append({
            "group_id": group.id, "label": group.label, "state": group.state, "created": group.created,
            "output_dir": group.output_dir, "total": sum(states.values()), "completed": states["completed"],
            "failed": states["failed"] + states["timeout"],
        })
    return rows


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.core.journal import Journal

    with Journal(args.journal) as journal:
        rows = collect(journal, args.limit)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no job groups in the journal yet; start one with `nuke-comfyui render`")
        return 0
    print(f"{'GROUP':10} {'STATE':10} {'DONE':>9} {'CREATED':16} LABEL")
    for row in rows:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["created"]))
        done = f"{row['completed']}/{row['total']}"
        print(f"{row['group_id'][:8]:10} {row['state']:10} {done:>9} {created:16} {row['label']}")
    return 0
