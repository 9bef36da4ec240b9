"""Image inputs a render leaves unfed: refused before anything is sent, naming the node and the fix.

Why: a workflow's LoadImage names a file in the server's `input/` folder. When the render feeds
it (the plate through `--input`, another file through `--image`, the Nuke node's arrows) the
name is replaced per job; when it does not, the name stays — and if no server has that file
(the exported workflow's `example.png`), every job went to the servers and came back rejected
as "Invalid image file", one validation error per frame. The servers' `/object_info` lists the
files each one has (LoadImage's `image` choices), so the check is local and exact: an unfed
loader whose file no checked server lists is refused. Servers whose node list is not known yet
are not judged (the server's own validation still applies).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Set

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core.image_inputs import image_inputs

#: loaders whose `image` choices are the server's files (LoadImageOutput's choices come from elsewhere)
LISTING_CLASSES = ("LoadImage", "LoadImageMask")


def unfed_loaders(template: Dict[str, Dict[str, Any]], request: Any, input_node: Optional[str]) -> List[Any]:
    """The image loaders of `template` that the request gives no file: not the input node of an
    `--input` sequence, not an `--image`, and not set with `--set NODE.image=...`."""
    fed: Set[str] = set(request.images or {})
    if request.input_pattern and input_node is not None:
        fed.add(input_node)
    set_values = request.values or {}
    return [loader for loader in image_inputs(template)
            if loader.node not in fed and f"{loader.node}.image" not in set_values]


def missing_image_files(template: Dict[str, Dict[str, Any]], request: Any, input_node: Optional[str],
                        per_server: Mapping[str, Dict[str, Any]]) -> List[str]:
    """One line per unfed loader whose file no judged server lists: `node 1 "Nuke Input" (LoadImage): example.png`."""
    problems: List[str] = []
    for loader in unfed_loaders(template, request, input_node):
        if loader.class_type not in LISTING_CLASSES:
            continue
        judged = [_choices(info, loader.class_type) for info in per_server.values()]
        known = [choices for choices in judged if choices is not None]
        if known and not any(loader.value in choices for choices in known):
            problems.append(f'node {loader.node} "{loader.title}" ({loader.class_type}): {loader.value!r} is on no '
                            "server")
    return problems


def check_images(request: Any, per_server: Mapping[str, Dict[str, Any]], merged: Optional[Dict[str, Any]] = None,
                 wait_for_lists: Any = None) -> None:
    """RequestError when an unfed image loader's file is on no judged server.

    `wait_for_lists()` (optional) is called, once, only when there is an unfed loader to judge and
    no server's `/object_info` is known yet (it should wait, bounded, for the first ones); then
    `per_server` is read again through it if it returns a mapping.
    """
    from nuke_comfyui.core import workflow as wf
    from nuke_comfyui.core.errors import WorkflowError
    from nuke_comfyui.core.render_request import RequestError

    try:
        template = wf.load_workflow(request.workflow_path, merged or None)
        input_node = (wf.find_input_node({k: v for k, v in template.items() if k not in (request.images or {})})
                      if request.input_pattern else None)
    except WorkflowError:
        return  # the plan says why the workflow cannot be used, with its own message
    if not any(loader.class_type in LISTING_CLASSES for loader in unfed_loaders(template, request, input_node)):
        return
    if not per_server and wait_for_lists is not None:
        per_server = wait_for_lists() or per_server
    problems = missing_image_files(template, request, input_node, per_server)
    if problems:
        raise RequestError(describe_fix(problems, bool(request.input_pattern)))


def describe_fix(problems: List[str], has_input_pattern: bool) -> str:
    """The refusal: what is unfed and how to feed it."""
    plate = "" if has_input_pattern else "--input PLATE.####.png --frames F for the plate, or "
    return (f"the workflow's image input{'s' if len(problems) > 1 else ''} would get no image: {'; '.join(problems)}; "
            f"give {plate}--image NODE=FILE (`nuke-comfyui inputs WORKFLOW` lists the image inputs)")


def _choices(info: Dict[str, Any], class_type: str) -> Optional[List[Any]]:
    spec = oi.input_spec(info or {}, class_type, "image")
    return list(spec.options) if spec is not None and spec.kind == "COMBO" else None
