"""Before a Comfy node's render is sent: its Workflow tab is current, and its COMBO values exist.

Two checks on the main thread, with local facts only (the workflow file and the farm's cached
`/object_info`), before any input frame is written:
- The tab was built from the file now in `workflow file`. When a script, an expression or a
  pipeline changed the file without a rebuild, the knobs describe another workflow: Render
  refuses and says how to rebuild (Reload, or `workflow_events.choose_workflow(node)` in a
  pipeline) rather than rebuilding silently, because the artist would render values nobody saw.
- Every COMBO value the render sends (every frame's) exists on the servers it may use. A server
  lacking one would fail those frames with a validation error that is never retried, so the
  render is kept to the servers that have every value (the status line names the ones left out),
  and refused, naming node, input, value and server, when no checked server has them all.
  Servers whose `/object_info` is not known yet are not judged (the scheduler's class check and
  the server's own validation still apply).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence

from nuke_comfyui.core import object_info as oi
from nuke_comfyui.core import workflow as wf
from nuke_comfyui.core.combo_check import check_servers, nodes_the_server_runs
from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.workflow_inputs import list_inputs
from nuke_comfyui.host import knobs, workflow_tab

log = logging.getLogger(__name__)


def check_tab_current(node: Any) -> None:
    """NodeSetupError when the Workflow tab was built from another file than the node's workflow file."""
    if workflow_tab.KEYS not in node.knobs():
        return
    built = workflow_tab.source(node).get("path")
    now = knobs.evaluated(node, knobs.WORKFLOW).strip()
    if built and built != now:
        raise knobs.NodeSetupError(
            f"{node.fullName()}: the Workflow tab was built from {built}, but 'workflow file' is now {now}; "
            "press Reload on the Workflow tab to rebuild it (values you changed are kept where the input "
            "still exists), or set 'workflow file' back. In a pipeline call "
            "nuke_comfyui.host.workflow_events.choose_workflow(node) after changing the file")


def _sent_values(node: Any, frames: Sequence[int]) -> Dict[str, List[Any]]:
    if workflow_tab.KEYS not in node.knobs():
        return {}
    static, per_frame = workflow_tab.read_values(node, frames)
    sent: Dict[str, List[Any]] = {key: [value] for key, value in static.items()}
    for key, by_frame in per_frame.items():
        sent[key] = list(by_frame.values())
    return sent


def vet(node: Any, frames: Sequence[int], per_server: Dict[str, Any]) -> Optional[List[str]]:
    """The servers the render may use (the node's 'only servers', narrowed when some lack a value).

    Raises NodeSetupError for a stale tab, or when no server with a known /object_info has every
    COMBO value the render sends.
    """
    check_tab_current(node)
    subset = knobs.server_subset(node)
    judged = {name: info for name, info in per_server.items() if not subset or name in subset}
    if not judged:
        return subset
    path = knobs.evaluated(node, knobs.WORKFLOW).strip()
    merged = oi.merge(judged)
    try:
        workflow = wf.load_workflow(path, merged or None)
    except WorkflowError:
        return subset  # the plan reports why the workflow does not load, with its own message
    verdict = check_servers(list_inputs(workflow, merged), _sent_values(node, frames), judged,
                            nodes_the_server_runs(workflow, merged))
    if not verdict.lacking:
        return subset
    lacks = "; ".join(f"server {server} lacks {', '.join(lines)}" for server, lines in sorted(verdict.lacking.items()))
    if not verdict.passing:
        raise knobs.NodeSetupError(
            f"{node.fullName()}: no server has every value this render sends: {lacks}. Pick a value the "
            "servers list (the Workflow tab's pull-down shows them), install it there, or enable a server that has it")
    text = f"rendering on {', '.join(verdict.passing)} only: {lacks}"
    log.warning("%s: %s", node.fullName(), text)
    print(f"nuke-comfyui {node.fullName()}: {text}")
    knobs.show_status(node, text)
    return verdict.passing
