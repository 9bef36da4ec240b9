"""Open Job Description path-mapping rules, applied by a farm task to the paths the farm cannot see.

An artist on Windows submits `U:/shots/...`; a Linux worker mounts the same storage at
`/mnt/shots/...`. The farm manager (AWS Deadline Cloud storage profiles, `openjd run
--path-mapping-rules`) rewrites the job's PATH parameters itself, and hands each session the
rules as a file (`{{Session.PathMappingRulesFile}}`, format `pathmapping-1.0`):

    {"version": "pathmapping-1.0",
     "path_mapping_rules": [{"source_path_format": "WINDOWS", "source_path": "U:\\\\shots",
                             "destination_path": "/mnt/shots"}]}

(an empty object when there are none). Paths that are not parameters are the task's to map:
those inside the workflow input values (`render --values`), `--image` and `--set` values, and the
server settings' `dir_local`. The semantics are the Open Job Description specification's
("Path mapping", RFC 0006 of openjd-specifications): a rule matches whole leading path
components (Windows sources case-insensitively over ASCII, POSIX sources exactly), the most
specific rule wins, and the rest of the path is appended to the destination in this host's
format. Our own small implementation, so a task needs no openjd package at run time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from string import ascii_lowercase, ascii_uppercase
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nuke_comfyui.core.errors import NukeComfyError

VERSION = "pathmapping-1.0"
FORMATS = ("POSIX", "WINDOWS")
MAX_BYTES = 4 * 1024 * 1024
_ASCII_LOWER = str.maketrans(ascii_uppercase, ascii_lowercase)


class MappingRulesError(NukeComfyError, ValueError):
    """A path-mapping rules file that cannot be used (message names the file and the fix)."""


@dataclass(frozen=True)
class MappingRule:
    source_format: str  # "POSIX" | "WINDOWS": how the source path is read and compared
    source: str
    destination: str  # in the format of the host that applies the rule

    def source_parts(self) -> Tuple[str, ...]:
        return _parts(self.source, self.source_format)

    def apply(self, path: str) -> Optional[str]:
        """The mapped path when this rule matches `path` on whole components, else None."""
        if self.source_format == "POSIX" and not path.startswith("/"):
            return None
        parts = _parts(path, self.source_format)
        source = self.source_parts()
        if len(parts) < len(source):
            return None
        if self.source_format == "WINDOWS":
            same = all(a.translate(_ASCII_LOWER) == b.translate(_ASCII_LOWER) for a, b in zip(source, parts))
        else:
            same = tuple(parts[: len(source)]) == source
        if not same:
            return None
        mapped = str(PurePath(self.destination).joinpath(*parts[len(source):]))
        if path.endswith(("/", "\\")) if self.source_format == "WINDOWS" else path.endswith("/"):
            mapped += os.sep
        return mapped


def _parts(path: str, source_format: str) -> Tuple[str, ...]:
    pure = PureWindowsPath(path) if source_format == "WINDOWS" else PurePosixPath(path)
    return pure.parts


@dataclass(frozen=True)
class PathMappingRules:
    rules: Tuple[MappingRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def map(self, path: str) -> str:
        """`path` through the most specific matching rule; unchanged when none matches."""
        for rule in self.rules:
            mapped = rule.apply(path)
            if mapped is not None:
                return mapped
        return path

    def map_value(self, value: Any) -> Any:
        """A workflow input value with every string that is a mapped path rewritten (lists and
        objects walked); other strings (a prompt that mentions a path) are left alone, because
        a rule only matches a string that starts with its source path."""
        if isinstance(value, str):
            return self.map(value)
        if isinstance(value, list):
            return [self.map_value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.map_value(item) for key, item in value.items()}
        return value

    @classmethod
    def from_data(cls, data: Any, where: str = "path-mapping rules") -> PathMappingRules:
        """Rules from a parsed `pathmapping-1.0` document (`{}`: no rules)."""
        fix = (f"write {{\"version\": \"{VERSION}\", \"path_mapping_rules\": [{{\"source_path_format\": "
               "\"WINDOWS\", \"source_path\": \"U:/shots\", \"destination_path\": \"/mnt/shots\"}]}")
        if data == {}:
            return cls()
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise MappingRulesError(f"{where} is not a {VERSION} document; {fix}")
        entries = data.get("path_mapping_rules")
        if not isinstance(entries, list):
            raise MappingRulesError(f"{where} has no path_mapping_rules list; {fix}")
        rules: List[MappingRule] = [_rule(entry, where, fix) for entry in entries]
        # The most specific rule first: a rule for U:/shots/sh010 beats one for U:/ (the spec's order).
        rules.sort(key=lambda rule: len(rule.source_parts()), reverse=True)
        return cls(tuple(rules))

    @classmethod
    def read(cls, location: str) -> PathMappingRules:
        """Rules from a file (as the session writes `{{Session.PathMappingRulesFile}}`; `file://` accepted)."""
        path = location[len("file://"):] if location.startswith("file://") else location
        where = f"path-mapping rules file {path}"
        try:
            if os.path.getsize(path) > MAX_BYTES:
                raise MappingRulesError(f"{where} is larger than {MAX_BYTES // (1024 * 1024)} MB; "
                                       "give the rules file the farm session wrote")
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise MappingRulesError(f"{where} cannot be read ({exc.strerror or exc}); "
                                   "pass {{Session.PathMappingRulesFile}} as the template does") from None
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise MappingRulesError(f"{where} is not JSON ({exc}); give the file the farm session wrote") from None
        return cls.from_data(data, where)


def _rule(entry: Any, where: str, fix: str) -> MappingRule:
    keys = {"source_path_format", "source_path", "destination_path"}
    if not isinstance(entry, dict) or set(entry) != keys or not all(isinstance(entry[k], str) for k in keys):
        raise MappingRulesError(f"{where}: each rule must have exactly {', '.join(sorted(keys))} as strings; {fix}")
    source_format = entry["source_path_format"].upper()
    if source_format not in FORMATS:
        raise MappingRulesError(f"{where}: source_path_format {entry['source_path_format']!r} is not one of "
                               f"{', '.join(FORMATS)}; {fix}")
    if not entry["source_path"].strip() or not entry["destination_path"].strip():
        raise MappingRulesError(f"{where}: a rule has an empty source or destination path; {fix}")
    return MappingRule(source_format, entry["source_path"], entry["destination_path"])


def map_values(rules: PathMappingRules, values: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """`RenderRequest.values` with path values mapped (None stays None)."""
    if values is None or not rules:
        return values
    return {key: rules.map_value(value) for key, value in values.items()}


def map_frame_values(rules: PathMappingRules,
                     frame_values: Optional[Dict[str, Dict[str, Any]]]) -> Optional[Dict[str, Dict[str, Any]]]:
    """`RenderRequest.frame_values` (per key, per frame) with path values mapped."""
    if frame_values is None or not rules:
        return frame_values
    return {key: {frame: rules.map_value(value) for frame, value in per_frame.items()}
            for key, per_frame in frame_values.items()}


def map_assignments(rules: PathMappingRules, assignments: Sequence[str], separator: str = "=") -> List[str]:
    """`NODE=PATH` (`--image`) or `NODE.INPUT=VALUE` (`--set`) texts with the part after `=` mapped."""
    mapped = []
    for text in assignments:
        head, eq, value = text.partition(separator)
        mapped.append(f"{head}{eq}{rules.map(value)}" if eq else text)
    return mapped


def map_cluster(rules: PathMappingRules, cluster: Any) -> Any:
    """The cluster with each server's `dir_local` (shared storage as this machine sees it) mapped:
    settings written on the artist's Windows machine name the share as U:/..., a Linux worker
    reaches it elsewhere. `dir_remote` is the server's own view and is left alone."""
    if not rules:
        return cluster
    servers = [server.model_copy(update={"dir_local": rules.map(server.dir_local)}) if server.dir_local else server
               for server in cluster.servers]
    return cluster.model_copy(update={"servers": servers})
