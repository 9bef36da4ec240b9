"""`LiveBoard`: what each running job of ours is doing right now, and its latest preview image.

The event streams' live feeds (live_feed.py) write here from their threads, only while someone
looks (`interest`, shared with every stream); panels and the CLI read from their own threads.
It is kept apart from the scheduler's state and lock on purpose: a preview per sampler step, or a
progress frame per step, must never contend with dispatching, and nothing here changes a job.

One entry per running job: its node (title and step count, "KSampler 12/30") and its latest
preview (the server's JPEG/PNG bytes, never decoded here). Entries go when the prompt ends, when
the stream that fed them drops, or when a read finds the prompt is no longer the job's current
one. Preview bytes held in all are bounded (`MAX_PREVIEW_BYTES`): the oldest are dropped first.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from nuke_comfyui.core.comfy.live_interest import LiveInterest

#: preview bytes kept over every running job (each preview is already capped, previews.MAX_BYTES)
MAX_PREVIEW_BYTES = 64 * 1024 * 1024
_TITLE_GROUPS = 32  # groups whose node titles are kept
_MAX_TITLE = 40


@dataclass(frozen=True)
class LiveStatus:
    """The node a running job is on, as its server last said."""

    job_id: str
    group_id: str
    frame: Optional[int]
    variation: int
    server: str
    prompt_id: str
    node: Optional[str]  # the node id the artist sees
    title: str  # that node's title in the workflow ("KSampler", or the artist's own title)
    value: float
    max: float
    version: int
    since: float = 0.0  # time.monotonic() when this prompt was first heard of

    @property
    def text(self) -> str:
        """'KSampler 12/30', or just the title for a node without steps ('' before any node)."""
        if self.max > 1:
            return f"{self.title} {int(self.value)}/{int(self.max)}"
        return self.title

    @property
    def fraction(self) -> float:
        return min(1.0, self.value / self.max) if self.max > 0 else 0.0


@dataclass(frozen=True)
class LivePreview:
    """A job's latest preview: the image bytes as the server sent them."""

    job_id: str
    prompt_id: str
    mime: str
    data: bytes
    version: int


@dataclass(frozen=True)
class LiveChanges:
    """What changed after a version: new statuses, and jobs with a newer preview."""

    version: int
    statuses: List[LiveStatus]
    previews: List[str]


class LiveBoard:
    """Per-job live node progress and previews; thread-safe, never blocks on the scheduler."""

    def __init__(self, alive: Optional[Callable[[str, str], bool]] = None) -> None:
        self.interest = LiveInterest()
        self._alive = alive or (lambda job_id, prompt_id: True)  # is this still the job's current prompt?
        self._lock = threading.Lock()
        self._versions = itertools.count(1)
        self._version = 0
        self._statuses: Dict[str, LiveStatus] = {}
        self._previews: OrderedDict[str, LivePreview] = OrderedDict()  # oldest first
        self._preview_bytes = 0
        self._prompts: Dict[str, str] = {}  # prompt id -> job id
        self._titles: OrderedDict[str, Dict[str, str]] = OrderedDict()
        self._features: Dict[str, Any] = {}

    def watch(self, *, previews: bool = False) -> Callable[[], None]:
        """Ask the streams for node progress (and previews); returns the release."""
        return self.interest.watch(previews=previews)

    # -- writes (stream threads) -------------------------------------------------------------

    def progress(self, job: Any, prompt_id: str, server: str, *, node: Optional[str], value: float,
                 maximum: float) -> None:
        """The job's prompt is on `node` at step value/maximum (node None: keep the last node)."""
        titles = self._titles_of(job.group)
        with self._lock:
            old = self._statuses.get(job.id)
            since = time.monotonic()
            if old is not None and old.prompt_id == prompt_id:
                node = node if node is not None else old.node
                if node == old.node and value == old.value and maximum == old.max:
                    return
                since = old.since
            title = _title(titles, node)
            version = self._bump()
            self._statuses[job.id] = LiveStatus(job.id, job.group.id, job.frame, job.variation, server, prompt_id,
                                                node, title, float(value), float(maximum), version, since)
            self._prompts[prompt_id] = job.id

    def preview(self, job: Any, prompt_id: str, mime: str, data: bytes) -> None:
        with self._lock:
            self._drop_preview(job.id)
            self._previews[job.id] = LivePreview(job.id, prompt_id, mime, data, self._bump())
            self._preview_bytes += len(data)
            self._prompts[prompt_id] = job.id
            while self._preview_bytes > MAX_PREVIEW_BYTES and len(self._previews) > 1:
                self._drop_preview(next(iter(self._previews)))

    def ended(self, prompt_id: Optional[str]) -> None:
        """The prompt finished, failed or was interrupted: its job shows its result from now on."""
        with self._lock:
            job_id = self._prompts.pop(prompt_id, None) if prompt_id else None
            if job_id is not None:
                self._forget(job_id, prompt_id)

    def server_lost(self, server: str) -> None:
        """The stream of `server` dropped: what it told us can no longer be kept up to date."""
        with self._lock:
            for status in [s for s in self._statuses.values() if s.server == server]:
                self._forget(status.job_id, status.prompt_id)

    def set_features(self, server: str, features: Any) -> None:
        with self._lock:
            self._features[server] = features

    # -- reads (any thread) ------------------------------------------------------------------

    def statuses(self, group_id: Optional[str] = None) -> List[LiveStatus]:
        """Live statuses of running jobs (of one group, or all)."""
        with self._lock:
            found = [s for s in self._statuses.values() if group_id is None or s.group_id == group_id]
        return [s for s in found if self._still(s.job_id, s.prompt_id)]

    def status(self, job_id: str) -> Optional[LiveStatus]:
        with self._lock:
            status = self._statuses.get(job_id)
        return status if status is not None and self._still(job_id, status.prompt_id) else None

    def latest_preview(self, job_id: str) -> Optional[LivePreview]:
        with self._lock:
            preview = self._previews.get(job_id)
        return preview if preview is not None and self._still(job_id, preview.prompt_id) else None

    def changes(self, since: int = 0) -> LiveChanges:
        """Statuses and previews newer than version `since` (0: everything held)."""
        with self._lock:
            statuses = [s for s in self._statuses.values() if s.version > since]
            previews = [p.job_id for p in self._previews.values() if p.version > since]
            version = self._version
        return LiveChanges(version, [s for s in statuses if self._still(s.job_id, s.prompt_id)], previews)

    def features(self, server: str) -> Optional[Any]:
        """The server's answer to the feature negotiation on its current connection (None: none came)."""
        with self._lock:
            return self._features.get(server)

    def forget_features(self, server: str) -> None:
        with self._lock:
            self._features.pop(server, None)

    # -- internals (lock held unless said) -----------------------------------------------------

    def _bump(self) -> int:
        self._version = next(self._versions)
        return self._version

    def _still(self, job_id: str, prompt_id: str) -> bool:
        """Outside the lock: a prompt that is no longer the job's current one is forgotten."""
        if self._alive(job_id, prompt_id):
            return True
        with self._lock:
            self._prompts.pop(prompt_id, None)
            self._forget(job_id, prompt_id)
        return False

    def _forget(self, job_id: str, prompt_id: Optional[str]) -> None:
        status = self._statuses.get(job_id)
        if status is not None and status.prompt_id == prompt_id:
            del self._statuses[job_id]
        preview = self._previews.get(job_id)
        if preview is not None and preview.prompt_id == prompt_id:
            self._drop_preview(job_id)

    def _drop_preview(self, job_id: str) -> None:
        old = self._previews.pop(job_id, None)
        if old is not None:
            self._preview_bytes -= len(old.data)

    def _titles_of(self, group: Any) -> Dict[str, str]:
        """Node id -> title of the group's workflow (parsed once per group, outside the lock)."""
        titles = self._titles.get(group.id)
        if titles is None:
            titles = node_titles(getattr(getattr(group, "plan", None), "template_json", "{}"))
            with self._lock:
                self._titles[group.id] = titles
                while len(self._titles) > _TITLE_GROUPS:
                    self._titles.popitem(last=False)
        return titles


def node_titles(template_json: str) -> Dict[str, str]:
    """{node id: title} of an API-format workflow: `_meta.title`, else the class type."""
    try:
        workflow = json.loads(template_json)
    except ValueError:
        return {}
    titles: Dict[str, str] = {}
    if isinstance(workflow, dict):
        for node_id, node in workflow.items():
            if isinstance(node, dict):
                meta = node.get("_meta")
                title = meta.get("title") if isinstance(meta, dict) else None
                titles[str(node_id)] = _clean(title or node.get("class_type") or "")
    return titles


def _title(titles: Dict[str, str], node: Optional[str]) -> str:
    if node is None:
        return ""
    if node in titles:
        return titles[node]
    head = node.split(":", 1)[0].split(".", 1)[0]  # a node ComfyUI expanded from one of ours
    return titles.get(head) or f"node {node}"


def _clean(text: Any) -> str:
    flat = "".join(ch if ch.isprintable() else " " for ch in str(text)).strip()
    return flat if len(flat) <= _MAX_TITLE else flat[:_MAX_TITLE - 1] + "\u2026"


__all__: Tuple[str, ...] = ("MAX_PREVIEW_BYTES", "LiveBoard", "LiveChanges", "LivePreview", "LiveStatus",
                            "node_titles")
