"""The official templates as real ComfyUI servers (0.33.0 and 0.8.2) judged our conversion of them.

`comfyui-0.33.0-template-verdicts.json.gz` (tests/core/data/object_info, README there) holds what a
real 0.33.0 answered to `POST /prompt` for the prompt this conversion made of every template of
`comfyui-workflow-templates-json` 0.1.123 and 0.1.50 (0.33.0's own date) whose classes it knows:
749 templates, no structural error among them (no missing input, no bad link, no wrong type);
every rejection was a model file or an input file that machine lacks, or a COMBO option newer
than 0.33.0 (`value_not_in_list`). `comfyui-0.8.2-template-verdicts.json.gz` is the same from a
real 0.8.2 (326 templates, converted with its own `/object_info`), with the same outcome.

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
from functools import cache
from typing import Any, Dict, Set, Tuple

import pytest

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core import ui_convert
from nuke_comfyui.core.combo_check import check_servers, nodes_the_server_runs
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.image_inputs import LOADER_CLASSES
from nuke_comfyui.core.ui_convert import marks
from nuke_comfyui.core.workflow_inputs import list_inputs
from tests.core.ui_convert import corpus

SERVERS = ["comfyui-0.33.0", "comfyui-0.8.2"]


def sha256(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@cache
def _judged(server: str) -> Tuple[Tuple[str, Any, Dict[str, Any]], ...]:
    """(name, its prompt now (or the WorkflowError refusing it), the real server's verdict) for every
    installed template that server judged; converted once per server for the tests below."""
    with gzip.open(corpus.DATA / f"{server}-template-verdicts.json.gz", "rt", encoding="utf-8") as handle:
        verdicts = json.load(handle)["templates"]
    info = corpus.object_info(server)
    found = []
    for name, data in corpus.templates():
        verdict = verdicts.get(sha256(data))
        if verdict is None:
            continue
        try:
            prompt: Any = ui_convert.convert(data, info, name)
            marks.strip(prompt)
        except WorkflowError as exc:
            prompt = exc
        found.append((name, prompt, verdict))
    return tuple(found)


def judged(server: str) -> Tuple[Tuple[str, Any, Dict[str, Any]], ...]:
    found = _judged(server)
    if not found:
        pytest.skip("no installed template was judged by the real server (another templates release?)")
    return found


def refused_options(verdict: Dict[str, Any], info: Dict[str, Any]) -> Set[Tuple[str, str]]:
    """(node, input) the server refused as not in its list, or as a file it lacks, where the recorded
    /object_info lists values for that input (an empty list, as for models there, is not judged)."""
    refused = set()
    for error in verdict["errors"]:
        if error["type"] not in ("value_not_in_list", "missing_input_file"):
            continue
        if error["class_type"] in LOADER_CLASSES and error["input"] == "image":
            continue  # the plate loaders: each job's image is staged on the server, never a knob
        spec = oi.input_spec(info, error["class_type"], error["input"])
        if spec is not None and spec.options:
            refused.add((str(error["node"]), str(error["input"])))
    return refused


@pytest.mark.parametrize("server", SERVERS)
def test_every_judged_template_still_converts_to_the_prompt_the_server_judged(server: str) -> None:
    changed = []
    for name, prompt, verdict in judged(server):
        if isinstance(prompt, WorkflowError):
            changed.append(f"{name}: now refused ({prompt})")
        elif sha256(prompt) != verdict["prompt_sha256"]:
            changed.append(f"{name}: its prompt changed since a real {server} judged it; judge it again")
    assert not changed, "\n".join(changed[:20])


@pytest.mark.parametrize("server", SERVERS)
def test_our_combo_check_flags_exactly_the_options_the_real_server_refused(server: str) -> None:
    info = corpus.object_info(server)
    wrong = []
    for name, prompt, verdict in judged(server):
        if isinstance(prompt, WorkflowError):
            continue  # the test above names it
        runs = nodes_the_server_runs(prompt, info)
        ours = {(item.node, item.name) for item in list_inputs(prompt, info)
                if check_servers([item], {}, {server: info}, runs).lacking}
        theirs = refused_options(verdict, info)
        if ours != theirs:
            wrong.append(f"{name}: we flag {sorted(ours)}, the server refused {sorted(theirs)}")
    assert not wrong, "\n".join(wrong[:20])
