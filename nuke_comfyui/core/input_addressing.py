"""How an artist names one input of a workflow: `NODE.INPUT`, for nodes inside subgraphs too.

An input's key is `<node id>.<input name>`. Node ids of a converted UI workflow are the
frontend's execution ids: `12` at the top level, `12:5` for node 5 inside subgraph instance 12
(`12:7:5` nested deeper). Input names may hold dots themselves: a dynamic combo's sub-inputs are
`format.bit_depth`, an autogrow group's are `images.image_1`. So `12:5.format.bit_depth` is node
`12:5`, input `format.bit_depth`: the node id never holds a dot, the key splits at the first dot
whose left side is a node of the workflow.

`--set`, `--values`, a sidecar and the Workflow tab accept NODE as:
- the node id (`12:5`);
- the node's title, or its class type (`KSampler`), case-insensitive, when only one node has it;
- the titles of the subgraph instances around it and its own, joined by `>` (or U+203A, the labels' separator):
  `Upscale > KSampler.steps`, which tells apart the same node in two instances.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Protocol, Sequence, Tuple, TypeVar

from nuke_comfyui.core.errors import WorkflowError


class NamedInput(Protocol):
    """What naming needs of an input (workflow_inputs.WorkflowInput has it)."""

    @property
    def node(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def class_type(self) -> str: ...
    @property
    def path(self) -> Tuple[str, ...]: ...


Item = TypeVar("Item", bound=NamedInput)

PATH_SEPARATORS = re.compile(r"\s*(?:>|\u203a)\s*")


class InputValueError(WorkflowError):
    """A value that does not fit its input (message names the input, the value and the fix)."""


def split_key(workflow: Dict[str, Any], key: str) -> Tuple[str, str]:
    """(node id, input name) of `key`; a key whose node the workflow lacks splits at its last dot."""
    for index, char in enumerate(key):
        if char == "." and key[:index] in workflow:
            return key[:index], key[index + 1:]
    node_id, _, name = key.rpartition(".")
    return node_id, name


def _node_names(item: NamedInput) -> List[str]:
    """Every way NODE may name the item's node, lower-cased: id, title, class, title path."""
    names = [item.title.lower(), item.class_type.lower()]
    if item.path:
        names += [" > ".join([*item.path, t]).lower() for t in (item.title, item.class_type)]
    return names


def _normalise(reference: str) -> str:
    return PATH_SEPARATORS.sub(" > ", reference.strip()).lower()


def find_input(inputs: Sequence[Item], reference: str) -> Item:
    """The input named `NODE.INPUT` (see the module docstring for what NODE may be)."""
    splits = [(reference[:i], reference[i + 1:]) for i, c in enumerate(reference) if c == "."]
    if not splits or not all(splits[0]):
        raise InputValueError(f"{reference!r} must be NODE.INPUT (node id or title, then the input name), "
                              "e.g. 3.denoise, 12:5.steps or KSampler.steps")
    for node_ref, name in splits:  # a node id first: ids are exact
        exact = [i for i in inputs if i.node == node_ref and i.name == name]
        if exact:
            return exact[0]
    for node_ref, name in splits:
        wanted = _normalise(node_ref)
        matches = [i for i in inputs if i.name == name and wanted in _node_names(i)]
        nodes = sorted({i.node for i in matches})
        if len(nodes) == 1:
            return matches[0]
        if len(nodes) > 1:
            raise InputValueError(f"{reference!r} matches several nodes ({', '.join(nodes)}); use the node id, "
                                  f"e.g. {nodes[0]}.{name}, or the subgraph's title: "
                                  f"{' > '.join([*matches[0].path, matches[0].title])}.{name}")
    return _not_found(inputs, splits)


def _not_found(inputs: Sequence[NamedInput], splits: List[Tuple[str, str]]) -> Any:
    for node_ref, name in splits:
        wanted = _normalise(node_ref)
        known = sorted({i.name for i in inputs if i.node == node_ref or wanted in _node_names(i)})
        if known:
            raise InputValueError(f"node {node_ref!r} has no input {name!r}; its inputs are {', '.join(known)}")
    raise InputValueError(f"no node {splits[0][0]!r} in the workflow; `nuke-comfyui inputs WORKFLOW` lists them")


def readable(item: NamedInput, separator: str = " \u203a ") -> str:
    """`Subgraph > Node title > input` (U+203A by default): how the Workflow tab and `inputs` label an input."""
    return separator.join([*item.path, item.title, item.name])


def node_of(workflow: Dict[str, Any], key: str) -> Optional[Dict[str, Any]]:
    node_id, _name = split_key(workflow, key)
    node = workflow.get(node_id)
    return node if isinstance(node, dict) else None
