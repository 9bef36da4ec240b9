"""Every official ComfyUI template whose classes a real server knows: converted soundly, or refused by name.

For each template of `comfyui-workflow-templates-json` whose node classes the recorded
`/object_info` has, the conversion either succeeds or raises a WorkflowError naming a node. A
converted prompt is then checked independently (`api_checks`, written from ComfyUI's own
validation): links point at existing nodes and output slots of a fitting type, every required
input of every node the server runs is there, every value has the declared type and range, no
value sits in a link-only input. Where the frontend also saved `widgets_values_named`, its names
must be the inputs the conversion gave those values to. The figures are printed (run with -s).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Dict, List, Tuple

import pytest

from nuke_comfyui.core import ui_convert
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.ui_convert import marks
from tests.core.ui_convert import api_checks, corpus

REASONS: List[Tuple[str, str]] = [
    (r"another version of|does not offer|saved with (a value for )?input|links to output \d+ of node",
     "saved with another version of a node than this server has (the templates are newer)"),
    (r"when ComfyUI queues it", "an input the browser makes when it queues (3D viewer, painter, webcam)"),
    (r"lacks required input", "a required input left unconnected in the file"),
    (r"legacy group node", "a legacy group node"),
]


def reason(message: str) -> str:
    for pattern, text in REASONS:
        if re.search(pattern, message):
            return text
    return message


def run_corpus(info: Dict[str, object]) -> Tuple[Counter, Counter, List[str]]:
    counts: Counter = Counter()
    refusals: Counter = Counter()
    failures: List[str] = []
    for name, data in corpus.templates():
        counts["templates"] += 1
        if not corpus.known(data, info):
            counts["unknown classes"] += 1
            continue
        counts["classes known"] += 1
        try:
            prompt = ui_convert.convert(data, info, name)
        except WorkflowError as exc:
            counts["refused"] += 1
            refusals[reason(str(exc))] += 1
            if not re.search(r"(node|subgraph instance) [\w:-]+ \(", str(exc)) and "has no node to run" not in str(exc):
                failures.append(f"{name}: refused without naming a node: {exc}")
            continue
        counts["converted"] += 1
        marks.strip(prompt)
        failures += [f"{name}: {problem}" for problem in api_checks.problems(prompt, info)]
        failures += [f"{name}: {problem}" for problem in named_value_problems(data, prompt, info)]
    return counts, refusals, failures


def named_value_problems(data: Dict[str, object], prompt: Dict[str, Dict[str, object]],
                         info: Dict[str, object]) -> List[str]:
    """A top-level node saved with widgets_values_named: each name the server declares is an input of the
    converted node (the values may differ: the frontend restores by position, and so do we)."""
    found = []
    for node in data["nodes"]:  # type: ignore[attr-defined]
        named = node.get("widgets_values_named")
        converted = prompt.get(str(node["id"]))
        entry = info.get(node["type"])
        if not isinstance(named, dict) or converted is None or not isinstance(entry, dict):
            continue
        declared = api_checks.declared(entry, converted["inputs"])
        for key in named:
            if key in declared and key not in converted["inputs"] and declared[key][0] in api_checks.PRIMITIVE:
                found.append(f"node {node['id']}: saved value for {key!r} did not reach the prompt")
    return found


@pytest.mark.parametrize("capture", ["comfyui-0.33.0", "comfyui-0.8.2"])
def test_every_template_with_known_classes_converts_soundly_or_is_refused_by_name(capture: str) -> None:
    info = corpus.object_info(capture)
    counts, refusals, failures = run_corpus(info)
    known = counts["classes known"]
    print(f"\n{capture}: {counts['templates']} templates, {counts['unknown classes']} use classes this server "
          f"lacks, {known} have every class known: {counts['converted']} converted, {counts['refused']} refused")
    for text, number in refusals.most_common():
        print(f"  refused {number:3d}: {text}")
    assert not failures, "\n".join(failures[:20])
    assert counts["converted"] + counts["refused"] == known
    if capture == "comfyui-0.33.0":
        assert known >= 500  # the package holds 600+ templates; most use only core and API nodes
        assert counts["converted"] >= 0.9 * known, counts
