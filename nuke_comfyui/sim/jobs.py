"""The `/api/jobs` views (ComfyUI 0.8+) built from one server's queue and history.

The jobs API is the one place a client can tell pending / in_progress / completed / failed /
cancelled apart and get a 404 for an unknown id, so the shapes follow the captures: list items
carry id, status, priority (= queue number), create_time, outputs_count, and for finished jobs
the execution times, preview_output and workflow_id; a single job adds outputs,
execution_status and workflow.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from nuke_comfyui.sim.state import PromptQueue, QueueItem

STATUSES = ("pending", "in_progress", "completed", "failed", "cancelled")


def _queued(item: QueueItem, status: str) -> Dict[str, Any]:
    return {
        "id": item.prompt_id,
        "status": status,
        "priority": item.number,
        "create_time": item.create_time,
        "outputs_count": 0,
    }


def _finished(prompt_id: str, entry: Dict[str, Any], full: bool) -> Dict[str, Any]:
    number, _, prompt, extra_data, _ = entry["prompt"][:5]
    status = entry["status"]
    messages = status.get("messages", [])
    times = {event: data.get("timestamp") for event, data in messages}
    if status.get("status_str") == "success":
        state = "completed"
    elif "execution_interrupted" in times:
        state = "cancelled"
    else:
        state = "failed"
    outputs = entry.get("outputs", {})
    preview = None
    count = 0
    for node_id, node_out in outputs.items():
        for media, items in node_out.items():
            if not isinstance(items, list):
                continue
            for item in items:
                count += 1
                if preview is None and isinstance(item, dict) and "filename" in item:
                    preview = {**item, "nodeId": node_id, "mediaType": media}
    end = times.get("execution_success") or times.get("execution_error") or times.get("execution_interrupted")
    job: Dict[str, Any] = {
        "id": prompt_id,
        "status": state,
        "priority": number,
        "create_time": extra_data.get("create_time"),
        "execution_start_time": times.get("execution_start"),
        "execution_end_time": end,
        "outputs_count": count,
        "preview_output": preview,
        "workflow_id": ((extra_data.get("extra_pnginfo") or {}).get("workflow") or {}).get("id"),
    }
    if state == "failed":
        job["execution_error"] = next((d for e, d in messages if e == "execution_error"), None)
    if full:
        job["outputs"] = outputs
        job["execution_status"] = status
        job["workflow"] = {"prompt": prompt, "extra_data": extra_data}
    return job


def all_jobs(queue: PromptQueue) -> List[Dict[str, Any]]:
    """Every job the server knows, oldest first."""
    jobs: List[Dict[str, Any]] = []
    if queue.running is not None:
        jobs.append(_queued(queue.running, "in_progress"))
    jobs.extend(_queued(item, "pending") for item in queue.pending())
    jobs.extend(_finished(pid, entry, False) for pid, entry in queue.history.items())
    jobs.sort(key=lambda j: j.get("create_time") or 0)
    return jobs


def list_jobs(queue: PromptQueue, query: Dict[str, str]) -> Dict[str, Any]:
    """`GET /api/jobs` with status filter, sort order, offset and limit."""
    jobs = all_jobs(queue)
    wanted = [s.strip() for s in query.get("status", "").split(",") if s.strip()]
    if wanted:
        jobs = [j for j in jobs if j["status"] in wanted]
    if query.get("sort_order", "asc").lower() == "desc":
        jobs.reverse()
    offset = max(0, int(query.get("offset", 0) or 0))
    limit: Optional[int] = int(query["limit"]) if query.get("limit") else None
    total = len(jobs)
    page = jobs[offset:] if limit is None else jobs[offset : offset + limit]
    return {
        "jobs": page,
        "pagination": {
            "offset": offset,
            "limit": limit,
            "total": total,
            "has_more": offset + len(page) < total,
        },
    }


def get_job(queue: PromptQueue, prompt_id: str) -> Optional[Dict[str, Any]]:
    """`GET /api/jobs/{id}`; None for an unknown id (the route answers 404)."""
    if prompt_id in queue.history:
        return _finished(prompt_id, queue.history[prompt_id], True)
    if queue.running is not None and queue.running.prompt_id == prompt_id:
        return _queued(queue.running, "in_progress")
    for item in queue.pending():
        if item.prompt_id == prompt_id:
            return _queued(item, "pending")
    return None
