"""`nuke-comfyui groups`: list the job groups in the journal (newest first).

Needs no server: it only reads the per-user journal, so it works while a render runs elsewhere.
A group left running or queued by a process that died is shown as `orphaned` (finish it with
`resume`); a live one names the process rendering it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import Any, Dict, List, Optional

HELP = "list journaled job groups (id, state, progress, label)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=20, help="show at most this many (default 20)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--journal", default=None, help=argparse.SUPPRESS)


def collect(journal: Any, limit: int, problems: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    """The listing's rows; a damaged journal gives what can be read, and says why in `problems`."""
    from nuke_comfyui.core.errors import JournalError
    from nuke_comfyui.core.group_owners import GroupOwners

    owners = GroupOwners(journal)
    rows = []
    groups, damage = journal.readable_groups(limit=limit)
    for group in groups:
        try:
            states = Counter(job.state for job in journal.jobs(group.id))
            owner = owners.get(group.id)
        except JournalError as exc:  # this group's rows are damaged: list it, without counts
            damage = damage or str(exc)
            rows.append({"group_id": group.id, "label": group.label, "state": "damaged", "created": group.created,
                         "owner": None, "output_dir": group.output_dir, "total": None, "completed": None,
                         "failed": None})
            continue
        alive = owner is not None and owner.alive()
        state = group.state
        if state in ("queued", "running") and not alive:
            state = "orphaned"  # its process died: `resume` finishes it
        rows.append({
            "group_id": group.id, "label": group.label, "state": state, "created": group.created,
            "owner": owner.describe() if alive and owner is not None else None,
            "output_dir": group.output_dir, "total": sum(states.values()), "completed": states["completed"],
            "failed": states["failed"] + states["timeout"],
            **_chunking(group.request),
        })
    if damage and problems is not None:
        problems.append(damage)
    return rows


def _chunking(request_json: str) -> Dict[str, Any]:
    """A frame-batch group's chunking, read from its journaled request ({} for per-frame groups)."""
    try:
        request = json.loads(request_json)
        size, overlap = int(request.get("chunk_size") or 1), int(request.get("overlap") or 0)
    except (ValueError, TypeError, AttributeError):
        return {}
    if size <= 1 and not overlap:
        return {}
    return {"chunk_size": size, "overlap": overlap, "seam": request.get("seam", "crossfade"),
            "frames": request.get("frames")}


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.core.journal import Journal

    problems: List[str] = []
    with Journal(args.journal) as journal:
        rows = collect(journal, args.limit, problems)
    for problem in problems:
        print(f"nuke-comfyui groups: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 1 if problems else 0
    if not rows:
        print("no job groups in the journal yet; start one with `nuke-comfyui render`")
        return 0
    print(f"{'GROUP':10} {'STATE':10} {'DONE':>13} {'CREATED':16} LABEL")
    for row in rows:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["created"]))
        done = "?" if row["total"] is None else (
            f"{row['completed']}/{row['total']}" + (" chunks" if "chunk_size" in row else ""))
        owner = f"  ({row['owner']})" if row["owner"] else ""
        chunks = (f"  (frames {row['frames']} in chunks of {row['chunk_size']}, overlap {row['overlap']})"
                  if "chunk_size" in row else "")
        print(f"{row['group_id'][:8]:10} {row['state']:10} {done:>13} {created:16} {row['label']}{chunks}{owner}")
    return 1 if problems else 0
