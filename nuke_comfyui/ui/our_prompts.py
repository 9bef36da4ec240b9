"""The Server Status panel's "Our jobs" cell: which of our prompts a shared server holds now.

A server's queue counts mix every artist's prompts; this names ours (from
`Scheduler.prompts_by_server`) with the node a running one is on when somebody watches node
progress (the CLI, or a visible Job Results panel): `harbour v03 · f1001: KSampler 12/30 (+1
waiting)`. The tooltip lists each of our prompts there on a line of its own.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence, Tuple

from nuke_comfyui.ui.results_model import job_title


def describe_ours(prompts: Sequence[Any], live: Mapping[str, str]) -> Tuple[str, str]:
    """(cell text, tooltip) for one server's prompts of ours; ("", "") when it holds none."""
    running = [p for p in prompts if p.running]
    waiting = len(prompts) - len(running)
    text = ", ".join(_one(p, live) for p in running)
    if waiting:
        text = f"{text} (+{waiting} waiting)" if text else f"{waiting} waiting"
    tooltip = "\n".join(f"{_one(p, live)} ({'running' if p.running else 'waiting'})" for p in prompts)
    return text, tooltip


def ours_by_server(prompts_by_server: Mapping[str, Sequence[Any]], statuses: Sequence[Any]
                   ) -> Dict[str, Tuple[str, str]]:
    """Every server's cell from the scheduler's read and the live board's statuses (any thread)."""
    live = {s.job_id: s.text for s in statuses if getattr(s, "text", "")}
    return {server: describe_ours(prompts, live) for server, prompts in prompts_by_server.items()}


def _one(prompt: Any, live: Mapping[str, str]) -> str:
    node = live.get(prompt.job_id, "")
    return f"{prompt.label} {job_title(prompt)}" + (f": {node}" if node else "")
