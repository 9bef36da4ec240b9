"""OpenJD path-mapping rules as a farm task applies them (openjd-specifications RFC 0006, pathmapping-1.0).

Cross-checked against openjd-sessions' own `PathMappingRule.apply` (the reference implementation
openjd-cli uses) on the same rules and paths, so the task maps a value exactly as the session maps
a PATH parameter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openjd.sessions import PathMappingRule as ReferenceRule

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.path_mapping_rules import (
    MappingRulesError,
    PathMappingRules,
    map_assignments,
    map_cluster,
    map_frame_values,
    map_values,
)

RULES = [
    {"source_path_format": "WINDOWS", "source_path": "U:\\", "destination_path": "/mnt/u"},
    {"source_path_format": "WINDOWS", "source_path": "U:\\shots\\sh010", "destination_path": "/fast/sh010"},
    {"source_path_format": "WINDOWS", "source_path": "\\\\nas\\plates", "destination_path": "/mnt/plates"},
    {"source_path_format": "POSIX", "source_path": "/Volumes/comfy", "destination_path": "/mnt/comfy"},
]
DOCUMENT = {"version": "pathmapping-1.0", "path_mapping_rules": RULES}
PATHS = ["U:/shots/sh020/a.json", "u:\\Shots\\sh010\\plate.####.png", "U:/shots/sh0100/x", "\\\\NAS\\plates\\a.exr",
         "/Volumes/comfy/input/a.png", "/Volumes/comfyx/a.png", "/volumes/comfy/a.png", "V:/other", "a fox at U:/x",
         "relative/U:/x", "U:/"]


def _reference(path: str) -> str:
    rules = sorted((ReferenceRule.from_dict(r) for r in RULES),
                   key=lambda r: len(r.source_path.parts), reverse=True)  # type: ignore[union-attr]
    for rule in rules:
        matched, mapped = rule.apply(path=path)
        if matched:
            return mapped
    return path


@pytest.mark.parametrize("path", PATHS)
def test_a_path_maps_as_the_openjd_session_maps_it(path: str) -> None:
    assert PathMappingRules.from_data(DOCUMENT).map(path) == _reference(path)


def test_the_most_specific_rule_wins_and_case_matters_only_on_posix() -> None:
    rules = PathMappingRules.from_data(DOCUMENT)
    assert rules.map("U:/shots/sh010/plate.####.png") == "/fast/sh010/plate.####.png"
    assert rules.map("U:/shots/sh020/a.json") == "/mnt/u/shots/sh020/a.json"
    assert rules.map("/volumes/comfy/a.png") == "/volumes/comfy/a.png"
    assert rules.map("a fox at U:/x") == "a fox at U:/x"  # a prompt that mentions a path is not a path


def test_values_images_sets_and_dir_local_are_mapped(tmp_path: Path) -> None:
    file = tmp_path / "rules.json"
    file.write_text(json.dumps(DOCUMENT))
    rules = PathMappingRules.read(f"file://{file}")
    assert map_values(rules, {"1.image": "U:/a.png", "3.steps": 8, "6.list": ["U:/b", "text"]}) == {
        "1.image": "/mnt/u/a.png", "3.steps": 8, "6.list": ["/mnt/u/b", "text"]}
    assert map_frame_values(rules, {"6.text": {"1": "U:/c", "2": "d"}}) == {"6.text": {"1": "/mnt/u/c", "2": "d"}}
    assert map_assignments(rules, ["12=U:/depth.%04d.exr", "LoadImage.image=U:/e.png", "bare"]) == [
        "12=/mnt/u/depth.%04d.exr", "LoadImage.image=/mnt/u/e.png", "bare"]
    cluster = ClusterConfig(servers=[
        ServerConfig(name="gpu1", transfer="shared", dir_local="U:/comfy", dir_remote="/srv/comfy"),
        ServerConfig(name="gpu2")])
    mapped = map_cluster(rules, cluster)
    assert [s.dir_local for s in mapped.servers] == ["/mnt/u/comfy", ""]
    assert mapped.servers[0].dir_remote == "/srv/comfy"  # the server's own view is not ours to change


def test_no_rules_change_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "rules.json"
    empty.write_text("{}")  # what the session writes when the farm has no rules
    rules = PathMappingRules.read(str(empty))
    assert not rules and rules.map("U:/a") == "U:/a" and map_values(rules, {"a": "U:/b"}) == {"a": "U:/b"}


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "is not JSON"),
    ('{"version": "pathmapping-2.0", "path_mapping_rules": []}', "is not a pathmapping-1.0 document"),
    ('{"version": "pathmapping-1.0"}', "has no path_mapping_rules list"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path": "U:/"}]}', "each rule must have"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path_format": "MAC", "source_path": "/a", '
     '"destination_path": "/b"}]}', "source_path_format 'MAC' is not one of POSIX, WINDOWS"),
])
def test_a_bad_rules_file_is_named_with_the_fix(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "rules.json"
    file.write_text(text)
    with pytest.raises(MappingRulesError, match=message) as caught:
        PathMappingRules.read(str(file))
    assert str(file) in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(MappingRulesError, match="cannot be read"):
        PathMappingRules.read(str(tmp_path / "missing.json"))
