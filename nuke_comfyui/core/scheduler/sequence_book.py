"""A group's output sequences, kept up to date as children complete instead of rebuilt from every child.

`read_models.scan_sequences` defines what the sequences are (one per variation and output file
stem, frames read back from the file names, first/last spanning the frames requested). Building
that from 10,000 children on every progress update held the scheduler's lock for tens of
milliseconds; the book instead absorbs each completed child once (the group logs them in
completion order) and rebuilds only the sequences that changed, remembering the version at which
each one last changed so readers can ask for what is new since their last look.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Set, Tuple

from nuke_comfyui.core.scheduler.events import OutputSequence
from nuke_comfyui.core.scheduler.group import Group

SequenceKey = Tuple[int, str, str]  # (variation, base path, extension; "" for a still)


def split_output(path: str) -> Tuple[str, str, str, int]:
    """(base, extension, stem, frame) of one output file: `<stem>.<frame>.<ext>` names a frame of
    the sequence `<folder>/<stem>.%04d<ext>`; any other name is a still (its own path, frame 1)."""
    folder, _, name = path.replace("\\", "/").rpartition("/")
    parts = name.split(".")
    if len(parts) >= 3 and parts[-2].lstrip("-").isdigit():
        stem = ".".join(parts[:-2])
        return f"{folder}/{stem}.%04d", "." + parts[-1], stem, int(parts[-2])
    return path, "", name.rsplit(".", 1)[0], 1


class _Entry:
    """What one sequence has gathered so far."""

    __slots__ = ("frames", "index", "seed", "servers", "stem", "version")

    def __init__(self, stem: str, index: int, seed: int) -> None:
        self.stem = stem
        self.index = index  # the lowest child index seen: its seed names the sequence, as in a scan
        self.seed = seed
        self.frames: List[int] = []  # sorted, distinct
        self.servers: Set[str] = set()
        self.version = 0


class SequenceBook:
    """The output sequences of one group (guarded by the scheduler's lock, like the group)."""

    def __init__(self, group: Group, requested: Dict[int, Tuple[int, int]]) -> None:
        self._group = group
        self._requested = requested
        self._absorbed = 0  # completed_log entries taken in
        self._entries: Dict[SequenceKey, _Entry] = {}
        self._built: Dict[SequenceKey, OutputSequence] = {}
        self._order: List[SequenceKey] = []  # sorted keys
        self._changes: OrderedDict[SequenceKey, int] = OrderedDict()  # key -> version, oldest first

    def _absorb(self) -> None:
        log = self._group.completed_log
        if self._absorbed == len(log):
            return
        version = self._group.version
        added = False
        for job in log[self._absorbed:]:
            for path in job.outputs or ():
                base, ext, stem, frame = split_output(path)
                key = (job.variation, base, ext)
                entry = self._entries.get(key)
                if entry is None:
                    entry = self._entries[key] = _Entry(stem, job.index, job.seed)
                    added = True
                elif job.index < entry.index:
                    entry.index, entry.seed = job.index, job.seed
                at = bisect.bisect_left(entry.frames, frame)
                if at == len(entry.frames) or entry.frames[at] != frame:
                    entry.frames.insert(at, frame)
                if job.server:
                    entry.servers.add(job.server)
                entry.version = version
                self._built.pop(key, None)
                self._changes[key] = version
                self._changes.move_to_end(key)
        self._absorbed = len(log)
        if added:
            self._order = sorted(self._entries)

    def sequences(self, since: Optional[int] = None) -> List[OutputSequence]:
        """Every sequence, or those changed after version `since`, in (variation, pattern) order."""
        self._absorb()
        if since is None:
            keys = self._order
        else:
            keys = []
            for key in reversed(self._changes):
                if self._changes[key] <= since:
                    break
                keys.append(key)
            keys.sort()
        return [self._sequence(key) for key in keys]

    def _sequence(self, key: SequenceKey) -> OutputSequence:
        built = self._built.get(key)
        if built is None:
            variation, base, ext = key
            entry = self._entries[key]
            frames = entry.frames
            first, last = self._requested.get(variation, (frames[0], frames[-1])) if ext else (1, 1)
            nodes: List[Any] = list(getattr(self._group.plan, "output_nodes", ()) or ())
            node = next((n for n in nodes if entry.stem.endswith(f"_{n}")), nodes[0] if nodes else "")
            built = self._built[key] = OutputSequence(
                variation=variation, seed=entry.seed, output_node=node, pattern=f"{base}{ext}",
                first=min(first, frames[0]), last=max(last, frames[-1]), frames_done=list(frames),
                servers=sorted(entry.servers), seeded=getattr(self._group.plan, "seeded", True),
            )
        return built
