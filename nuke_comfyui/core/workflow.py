"""ComfyUI workflows in API format: loading, finding the Nuke input/output nodes, patching per job.

The job description is data; each job gets a fresh copy patched by small functions: its seed in
every seed-like sampler input, its input image, and a filename prefix unique to the job (so
ComfyUI's cache never hands back an old result and output names never collide).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Tuple, Union

from nuke_comfyui.core import text_files
from nuke_comfyui.core.errors import WorkflowError

INPUT_TITLE = "Nuke Input"
OUTPUT_TITLE = "Nuke Output"
INPUT_CLASSES = ("LoadImage",)
#: Output nodes of stock ComfyUI that write files; any class starting with "Save" counts too.
OUTPUT_CLASSES = frozenset({"SaveImage", "PreviewImage", "SaveAnimatedWEBP", "SaveAnimatedPNG", "SaveVideo",
                            "SaveWEBM", "SaveAudio", "SaveLatent", "SaveImageWebsocket"})
SEED_NAMES = ("seed", "noise_seed")
#: limits on a workflow file (docs/BAD_INPUT.md): real API-format workflows are a few hundred kB
#: and about 6 levels deep; these stop a wrong or hostile file before it costs memory or a crash
MAX_WORKFLOW_BYTES = 32 * 1024 * 1024
MAX_WORKFLOW_DEPTH = 64

Workflow = Dict[str, Dict[str, Any]]


def load_workflow(source: Union[str, Path, Dict[str, Any]], object_info: Optional[Dict[str, Any]] = None) -> Workflow:
    """Read and check a workflow (a path or an already parsed dict) as API format.

    A UI-format file (ComfyUI's normal Save) is converted with `object_info` (the servers'
    merged `/object_info`); without it, the error says how to get an API-format file.
    """
    where = str(source) if not isinstance(source, dict) else "workflow"
    data = read_workflow_data(source)
    from nuke_comfyui.core import ui_workflow

    if ui_workflow.is_ui_workflow(data) and object_info is not None:
        data = ui_workflow.convert(data, object_info, where)
    workflow = validate(data, where)
    if object_info:
        from nuke_comfyui.core.dynamic_combos import annotate

        annotate(workflow, object_info)  # a changed dynamic combo can then be rebuilt without a server
    return workflow


def read_workflow_data(source: Union[str, Path, Dict[str, Any]]) -> Any:
    """The file's JSON (size, syntax and nesting checked), in whichever format it was saved."""
    where = str(source) if not isinstance(source, dict) else "workflow"
    data = source if isinstance(source, dict) else _read_json(Path(source), where)
    _check_depth(data, where)
    return data


def _read_json(path: Path, where: str) -> Any:
    """The parsed file, refused before parsing when it is too large and when nested too deep."""
    too_deep = (f"workflow {where} is nested more than {MAX_WORKFLOW_DEPTH} levels deep, which no ComfyUI "
                "workflow is; export it again in API format")
    def too_large(size: int) -> WorkflowError:
        return WorkflowError(f"workflow {where} is {size / 2**20:.0f} MB; a workflow may be at most "
                             f"{MAX_WORKFLOW_BYTES // 2**20} MB (embedded images belong in input files)")

    try:
        size = path.stat().st_size
        if size > MAX_WORKFLOW_BYTES:
            raise too_large(size)
        text = text_files.read_text(path, MAX_WORKFLOW_BYTES)  # a regular file, read with a hard cap
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except text_files.NotAFile as exc:
        raise WorkflowError(f"workflow {where} is {exc.kind}, not a file; pick the workflow's JSON file") from None
    except text_files.TooLarge as exc:
        raise too_large(exc.size) from None
    except OSError as exc:
        raise WorkflowError(f"cannot read workflow {where}: {exc.strerror}") from None
    except _DuplicateKey as exc:
        raise WorkflowError(f"workflow {where} has the key {exc.args[0]!r} twice in one object (JSON keeps only "
                            "the last, so a node would vanish silently); export it again from ComfyUI") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WorkflowError(f"workflow {where} is not valid JSON ({exc}); export it again from ComfyUI") from None
    except RecursionError:  # json's C parser gives up on very deep nesting before we can measure it
        raise WorkflowError(too_deep) from None


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # rare: only then look for the key to name
        seen: Set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _check_depth(data: Any, where: str) -> None:
    """Iteratively (no recursion to blow up) refuse data nested deeper than MAX_WORKFLOW_DEPTH."""
    level: List[Any] = [data]
    for _ in range(MAX_WORKFLOW_DEPTH + 1):
        level = [child for value in level if isinstance(value, (dict, list))
                 for child in (value.values() if isinstance(value, dict) else value)]
        if not level:
            return
    raise WorkflowError(f"workflow {where} is nested more than {MAX_WORKFLOW_DEPTH} levels deep, which no "
                        "ComfyUI workflow is; export it again in API format")


def validate(data: Any, where: str = "workflow") -> Workflow:
    """Check the shape of an API-format workflow; UI-format files get told how to export API format."""
    if isinstance(data, dict) and "nodes" in data and "links" in data:
        raise WorkflowError(f"{where} is a ComfyUI UI workflow (saved with Save), and no server answered "
                            "/object_info to convert it; start a server, or in ComfyUI use "
                            "Workflow > Export (API) and pick that file")
    if isinstance(data, dict) and isinstance(data.get("prompt"), dict):
        data = data["prompt"]
    if not isinstance(data, dict) or not data:
        raise WorkflowError(f"{where} must be a JSON object of nodes {{id: {{class_type, inputs}}}} "
                            "(ComfyUI's Export (API) format)")
    for node_id, node in data.items():
        if isinstance(node, dict) and "class_type" in node and not isinstance(node["class_type"], str):
            raise WorkflowError(f"{where}: node {node_id} has class_type {json.dumps(node['class_type'])[:40]}, "
                                "which is not a node class name; export the workflow again in API format")
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            raise WorkflowError(f"{where}: node {node_id} has no class_type; export the workflow again in API format")
        if not isinstance(node.get("inputs", {}), dict):
            raise WorkflowError(f"{where}: node {node_id} ({node['class_type']}) has inputs that are not an object")
    _check_links(data, where)
    return data


def is_link(value: Any) -> bool:
    """ComfyUI's own test for a link: `[source node id, output index]`."""
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], int) and not isinstance(value[1], bool))


def _check_links(data: Workflow, where: str) -> None:
    """A link to a node that is not in the file, or links that go round in a cycle: ComfyUI would
    refuse the prompt (or fail it with HTTP 500) on every server, for every frame."""
    for node_id, node in data.items():
        for name, value in node.get("inputs", {}).items():
            if is_link(value) and value[0] not in data:
                raise WorkflowError(f"{where}: input {name!r} of node {node_id} ({node['class_type']}) links to "
                                    f"node {value[0]}, which is not in the workflow; export it again in API format")
            if is_link(value) and value[0] == node_id:
                raise WorkflowError(f"{where}: input {name!r} of node {node_id} ({node['class_type']}) links to the "
                                    "node itself, which ComfyUI cannot run; fix the link in ComfyUI and export again")
    cycle = _find_cycle(data)
    if cycle:
        path = " -> ".join(f"{i} ({data[i]['class_type']})" for i in [*cycle, cycle[0]])
        raise WorkflowError(f"{where}: the links of nodes {path} form a cycle, which ComfyUI cannot run; fix the "
                            "links in ComfyUI and export again")


def _find_cycle(data: Workflow) -> List[str]:
    """The nodes of one cycle of links (each needs the next's output), or [] when there is none.

    Iterative depth-first search, so a long chain cannot exhaust the recursion limit."""
    needs = {node_id: [v[0] for v in node.get("inputs", {}).values() if is_link(v)] for node_id, node in data.items()}
    state: Dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start, first in needs.items():
        if start in state:
            continue
        path: List[str] = [start]
        todo: List[Iterator[str]] = [iter(first)]
        state[start] = 1
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                todo.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                todo.append(iter(needs[nxt]))
    return []


def title(node: Dict[str, Any]) -> str:
    """The node's title as shown in ComfyUI (`_meta.title`), or "" when it has none."""
    meta = node.get("_meta")
    return str(meta.get("title", "")) if isinstance(meta, dict) else ""


def _describe(workflow: Workflow, ids: Iterable[str]) -> str:
    return ", ".join(f"{i} ({workflow[i]['class_type']}{', ' + repr(title(workflow[i])) if title(workflow[i]) else ''})"
                     for i in ids)


def find_input_node(workflow: Workflow) -> str:
    """The node that receives Nuke's frames: titled "Nuke Input", else the only LoadImage."""
    titled = [i for i, n in workflow.items() if title(n).strip().lower() == INPUT_TITLE.lower()]
    if len(titled) == 1:
        return titled[0]
    if len(titled) > 1:
        raise WorkflowError(f"several nodes are titled {INPUT_TITLE!r}: {_describe(workflow, titled)}; keep one")
    loaders = [i for i, n in workflow.items() if n["class_type"] in INPUT_CLASSES]
    if len(loaders) == 1:
        return loaders[0]
    if not loaders:
        raise WorkflowError("the workflow has no LoadImage node to receive Nuke's frames; add one "
                            f"(or title the loader node {INPUT_TITLE!r})")
    raise WorkflowError(f"the workflow has several LoadImage nodes: {_describe(workflow, loaders)}; "
                        f"title the one that receives Nuke's frames {INPUT_TITLE!r}")


def is_output_class(class_type: str, extra_outputs: Iterable[str] = ()) -> bool:
    """Output nodes are what ComfyUI executes a prompt for; their results are what we collect."""
    return class_type in OUTPUT_CLASSES or class_type.startswith("Save") or class_type in set(extra_outputs)


def find_output_nodes(workflow: Workflow, extra_outputs: Iterable[str] = ()) -> List[str]:
    """The node titled "Nuke Output", else every output node (sorted by id)."""
    titled = [i for i, n in workflow.items() if title(n).strip().lower() == OUTPUT_TITLE.lower()]
    if len(titled) > 1:
        raise WorkflowError(f"several nodes are titled {OUTPUT_TITLE!r}: {_describe(workflow, titled)}; keep one")
    if titled:
        return titled
    outputs = sorted((i for i, n in workflow.items() if is_output_class(n["class_type"], extra_outputs)), key=_id_key)
    if not outputs:
        raise WorkflowError("the workflow has no output node (SaveImage, PreviewImage, ...); add a SaveImage")
    return outputs


def class_types(workflow: Workflow) -> Set[str]:
    """Node classes the workflow needs: a server lacking any of them cannot run it."""
    return {node["class_type"] for node in workflow.values()}


def seed_inputs(workflow: Workflow) -> List[Tuple[str, str]]:
    """(node id, input name) of every literal-int seed-like input (`seed`, `noise_seed`, `*_seed`)."""
    found = []
    for node_id, node in workflow.items():
        for name, value in node.get("inputs", {}).items():
            seed_like = name in SEED_NAMES or name.endswith("_seed")
            if seed_like and isinstance(value, int) and not isinstance(value, bool):
                found.append((node_id, name))
    return sorted(found, key=lambda pair: (_id_key(pair[0]), pair[1]))


def patch_seeds(prompt: Workflow, seed: int) -> int:
    """Set every seed-like input to `seed` in place; returns how many were set."""
    targets = seed_inputs(prompt)
    for node_id, name in targets:
        prompt[node_id]["inputs"][name] = seed
    return len(targets)


def patch_image(prompt: Workflow, node_id: str, value: str) -> None:
    """Point the input node at this job's frame (as the server names it)."""
    if node_id not in prompt:
        raise WorkflowError(f"input node {node_id} is not in the workflow")
    prompt[node_id].setdefault("inputs", {})["image"] = value


def patch_filename_prefix(prompt: Workflow, prefix: str, output_nodes: Iterable[str]) -> None:
    """Give every output node that saves files a prefix unique to this job and attempt."""
    for node_id in output_nodes:
        inputs = prompt[node_id].setdefault("inputs", {})
        if "filename_prefix" in inputs or prompt[node_id]["class_type"].startswith("Save"):
            inputs["filename_prefix"] = prefix


def patch(workflow: Workflow, *, seed: Optional[int] = None, image: Optional[str] = None,
          filename_prefix: Optional[str] = None) -> Workflow:
    """A patched deep copy (the original is untouched)."""
    prompt: Workflow = json.loads(json.dumps(workflow))
    if seed is not None:
        patch_seeds(prompt, seed)
    if image is not None:
        patch_image(prompt, find_input_node(prompt), image)
    if filename_prefix is not None:
        patch_filename_prefix(prompt, filename_prefix, find_output_nodes(prompt))
    return prompt


def _id_key(node_id: str) -> Tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (1 << 30, node_id)
