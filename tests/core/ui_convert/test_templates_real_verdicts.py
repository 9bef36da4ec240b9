"""The official templates as a real ComfyUI 0.33.0 judged our conversion of them.

`comfyui-0.33.0-template-verdicts.json.gz` (tests/core/data/object_info, README there) holds what a
real 0.33.0 answered to `POST /prompt` for the prompt this conversion made of every template of
`comfyui-workflow-templates-json` 0.1.123 and 0.1.50 (0.33.0's own date) whose classes it knows:
749 templates, no structural error among them (no missing input, no bad link, no wrong type);
every rejection was a model file or an input file that machine lacks, or a COMBO option newer
than 0.33.0 (`value_not_in_list`).

Two checks keep that true for the templates installed here:
- a template the server judged still converts to the very prompt it judged (sha256): a change to
  the conversion that alters a judged prompt fails here, to be judged again on a real server;
- our own pre-render COMBO check (core/combo_check.py, which keeps a render off servers that
  lack a value) flags exactly the non-file options the real server refused, and nothing else.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any, Dict, List, Set, Tuple

import pytest

from nuke_comfyui.core import ui_convert
from nuke_comfyui.core.combo_check import check_servers, nodes_the_server_runs
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.ui_convert import marks
from nuke_comfyui.core.workflow_inputs import list_inputs
from tests.core.ui_convert import corpus

VERDICTS = corpus.DATA / "comfyui-0.33.0-template-verdicts.json.gz"
#: what the recording machine lacked: the server's answer says nothing about the conversion
MISSING_THERE = {"missing_input_file"}


def sha256(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def judged() -> List[Tuple[str, Dict[str, Any], Dict[str, Any]]]:
    """(name, template, the real server's verdict) for every installed template it judged."""
    with gzip.open(VERDICTS, "rt", encoding="utf-8") as handle:
        verdicts = json.load(handle)["templates"]
    found = [(name, data, verdicts[sha256(data)]) for name, data in corpus.templates() if sha256(data) in verdicts]
    if not found:
        pytest.skip("no installed template was judged by the real server (another templates release?)")
    return found


def refused_options(verdict: Dict[str, Any], info: Dict[str, Any]) -> Set[Tuple[str, str]]:
    """(node, input) the server refused as not in its list, where its list is not files (it lists them)."""
    refused = set()
    for error in verdict["errors"]:
        if error["type"] != "value_not_in_list":
            continue
        options = ((info.get(error["class_type"]) or {}).get("input") or {})
        listed = any(error["input"] in (section or {}) and _has_options((section or {})[error["input"]])
                     for section in options.values())
        if listed:
            refused.add((str(error["node"]), str(error["input"])))
    return refused


def _has_options(spec: Any) -> bool:
    first = spec[0] if isinstance(spec, list) and spec else None
    if isinstance(first, list):
        return bool(first)
    extra = spec[1] if isinstance(spec, list) and len(spec) > 1 and isinstance(spec[1], dict) else {}
    return bool(extra.get("options"))


def test_the_real_server_found_no_structural_error_in_any_judged_template() -> None:
    kinds = {error["type"] for _, _, verdict in judged() for error in verdict["errors"]}
    assert kinds <= MISSING_THERE | {"value_not_in_list"}, kinds


def test_every_judged_template_still_converts_to_the_prompt_the_server_judged() -> None:
    info = corpus.object_info()
    changed = []
    for name, data, verdict in judged():
        try:
            prompt = ui_convert.convert(data, info, name)
        except WorkflowError as exc:
            changed.append(f"{name}: now refused ({exc})")
            continue
        marks.strip(prompt)
        if sha256(prompt) != verdict["prompt_sha256"]:
            changed.append(f"{name}: its prompt changed since a real ComfyUI 0.33.0 judged it")
    assert not changed, "\n".join(changed[:20])


def test_our_combo_check_flags_exactly_the_options_the_real_server_refused() -> None:
    info = corpus.object_info()
    wrong = []
    for name, data, verdict in judged():
        prompt = ui_convert.convert(data, info, name)
        marks.strip(prompt)
        runs = nodes_the_server_runs(prompt, info)
        ours = {(item.node, item.name) for item in list_inputs(prompt, info)
                if check_servers([item], {}, {"real033": info}, runs).lacking}
        theirs = refused_options(verdict, info)
        if ours != theirs:
            wrong.append(f"{name}: we flag {sorted(ours)}, the server refused {sorted(theirs)}")
    assert not wrong, "\n".join(wrong[:20])
