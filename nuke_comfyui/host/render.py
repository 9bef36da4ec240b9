"""Render, cancel, retry and re-attach Comfy nodes, by full node name, on the main thread.

This is the one code path behind the Render button, the ComfyUI menu and `nuke -t`: read the
knobs, put the input frames on disk, submit a plain RenderRequest to the scheduler, store the
group id in the node's hidden job-state knob, and turn snapshots into Read nodes and status text.
Names are full names (`Group1.ComfyRender1`) resolved from the root, so a button pressed inside
the gizmo, or a node inside a user Group, finds the same node (see host.graph).
Cancelling talks to every server, which can take seconds when one is down: it runs on a worker
thread and the result comes back to the main thread, so Nuke never freezes on Cancel.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import nuke

from nuke_comfyui.core.chunk_values import held_in_request
from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.preflight import check_output_folder
from nuke_comfyui.core.seeds import base_seed_for_group
from nuke_comfyui.host import (
    frame_batch_knobs,
    job_state,
    knobs,
    pixel_plan,
    render_check,
    workflow_facts,
    workflow_tab,
)
from nuke_comfyui.host.colour import script_colour_names
from nuke_comfyui.host.farm_check import check_farm_answers
from nuke_comfyui.host.graph import find_node
from nuke_comfyui.host.halt_notice import halted_journal_said
from nuke_comfyui.host.image_staging import fit_arrows, object_infos, stage_images
from nuke_comfyui.host.inputs import SharedFolder
from nuke_comfyui.host.main_thread import call_on_main
from nuke_comfyui.host.read_nodes import kept_sequences, sync_reads
from nuke_comfyui.host.report import failures, halt_text, is_finished, status_text
from nuke_comfyui.host.session import HostSession, get_session
from nuke_comfyui.host.workflow_facts import output_titles, preview_nodes

if TYPE_CHECKING:
    from nuke_comfyui.core.config import ServerConfig
    from nuke_comfyui.core.render_request import RenderRequest
    from nuke_comfyui.core.scheduler import GroupReport

log = logging.getLogger(__name__)
#: the job state's key for the halted journal's line already printed (job ids are `<group>.<n>`)
HALT_KEY = "journal"


def shared_folders(servers: Sequence[ServerConfig], subset: Optional[List[str]],
                   transfer: Optional[str]) -> List[SharedFolder]:
    """Shared-storage roots of the servers this render may use (none when upload is forced)."""
    if transfer == "upload":
        return []
    found = []
    for server in servers:
        if not server.enabled or (subset and server.name not in subset) or not server.dir_local:
            continue
        if server.transfer == "shared" or (transfer == "shared" and server.dir_remote):
            found.append(SharedFolder(server.name, server.dir_local))
    return found


def node_request(node: nuke.Node, session: HostSession, frames: Optional[str] = None) -> RenderRequest:
    """The node's RenderRequest with its inputs staged: each connected input arrow's frames written
    to a shared folder (or the output folder for upload), or an upstream Read reused, keyed by its
    loader (host/image_staging). Shared by Render and Submit to farm."""
    return prepare_render(node, session, frames).request


@dataclass
class PreparedRender:
    """A render ready to submit: the request, and how its result Reads invert the plate."""

    request: RenderRequest
    colours: Dict[str, Any]


def prepare_render(node: nuke.Node, session: HostSession, frames: Optional[str] = None) -> PreparedRender:
    """node_request's work, keeping the pixel plan's colours for the node's job state."""
    output_dir = knobs.output_dir(node)
    transfer = knobs.transfer_override(node)
    shared = shared_folders(session.farm.pool.servers(), knobs.server_subset(node), transfer)
    sharing = {folder.server for folder in shared}
    for server in session.farm.pool.servers():  # a share that is not mounted: say so before writing frames
        if server.name in sharing:
            server.check_shared_storage()
    upload = transfer == "upload" or not shared
    knobs.evaluated(node, knobs.WORKFLOW)  # a workflow knob that does not evaluate: say so first
    infos = object_infos(session.farm.pool)
    arrows = fit_arrows(node, infos)
    span = knobs.frame_range(node, frames)
    frame_list = knobs.frame_numbers(span.text)
    servers = render_check.vet(node, frame_list, infos())  # stale tab, COMBO values: before any frame is written
    pixels = _pixels(node, session, servers or knobs.server_subset(node), infos)
    check_output_folder(output_dir)  # before a frame is written under it (uploads stage in <output>/_input)
    staged = stage_images(node, arrows, infos, span, frame_list, shared=shared, upload=upload, output_dir=output_dir,
                          settings=pixels.settings)
    for note in staged.notes:
        log.warning("%s: %s", node.fullName(), note)
    explicit = bool(frames) or str(node[knobs.FRAME_MODE].value()) == "custom"
    request = knobs.read_request(
        node,
        input_pattern=staged.input_pattern,
        frames=span if staged.any or explicit else None,
    )
    request.images = staged.images or None
    frame_batch_knobs.apply(node, request)
    request.values, request.frame_values = (workflow_tab.read_values(node, frame_list) if workflow_tab.KEYS in
                                            node.knobs() else (None, None))
    for note in held_in_request(request):
        log.warning("%s: %s", node.fullName(), note)
    request.servers = servers
    request.pixels = pixels.request(staged.clipped, len(frame_list) if staged.any else 0)
    pixel_plan.show_notes(node, request.pixels)
    for note in request.pixels.get("notes", []):
        log.warning("%s: %s", node.fullName(), note)
    return PreparedRender(request, pixels.read_colours())


def _pixels(node: nuke.Node, session: HostSession, servers: Optional[List[str]],
            infos: Any) -> pixel_plan.NodePixels:
    """The pixel plan: knobs fitted to the servers this render may use and the script's colour names."""
    from nuke_comfyui.host.image_staging import _is_ui, _merged

    infos()  # the servers' first answers (bounded wait): what they load and save decides the files
    path = knobs.evaluated(node, knobs.WORKFLOW).strip()
    workflow = workflow_facts.load(path, _merged(infos) if path and _is_ui(path) else None)
    return pixel_plan.node_pixels(node, session.farm.pool, servers, workflow, script_colour_names())


def render_node(name: str, *, frames: Optional[str] = None, watch: bool = True,
                session: Optional[HostSession] = None) -> str:
    """Render the Comfy node with full name `name`; returns the group id. Main thread only.

    frames overrides the node's frame range (the headless `--frames`). With watch, scheduler
    events update the node through the main thread; without (headless) the caller polls.
    """
    session = session or get_session()
    node = knobs.comfy_node(name)
    check_farm_answers(node, session)  # a farm that is not there: said in seconds, before frames are written
    scheduler = session.farm.scheduler
    with halted_journal_said(node, scheduler, "rendered", "Render"):
        scheduler.lift_halt()  # a journal that cannot be written: said before frames are written too
    prepared = prepare_render(node, session, frames)
    request = prepared.request
    group_id = scheduler.submit(request)
    session.unwatch(name)
    state = job_state.NodeJobState(
        group_id=group_id, input_pattern=request.input_pattern, output_dir=request.output_dir,
        colours=prepared.colours,
    )
    job_state.save(node, state)
    log.info("%s: submitted group %s (%s)", name, group_id, request.frames or "no frames")
    if request.draws_base_seed():
        log.info("%s: base seed %d drawn for this render; type it in 'base seed' to render the same seeds again",
                 name, base_seed_for_group(group_id))
    if watch:
        session.watch(name, group_id, apply_snapshot)
    apply_snapshot(name, scheduler.snapshot(group_id))
    return group_id


def apply_snapshot(name: str, snapshot: GroupReport) -> None:
    """Main thread: bring node name's Read nodes, status line and job state up to date (from a full
    snapshot or the cheaper `Scheduler.view`: only counters, sequences and failed jobs are read)."""
    node = find_node(name)
    if node is None or not knobs.is_comfy(node):
        return
    state = job_state.load(node)
    if state.group_id != snapshot.group_id:
        return  # the node was rendered again meanwhile; this snapshot is stale
    titles, previews = _output_facts(node)
    state.reads = sync_reads(node, kept_sequences(snapshot.sequences, previews), state.reads, titles, state.colours)
    state.state = str(getattr(snapshot.state, "value", snapshot.state))
    for job_id, text in failures(snapshot):
        if state.reported_failures.get(job_id) != text:
            print(f"nuke-comfyui {name}: failed {text}")
            state.reported_failures[job_id] = text
    halted = halt_text(snapshot)
    if halted and state.reported_failures.get(HALT_KEY) != halted:  # once per halt (Retry forgets it)
        print(f"nuke-comfyui {name}: {halted}")
        state.reported_failures[HALT_KEY] = halted
    knobs.show_status(node, status_text(snapshot))
    job_state.save(node, state)


def _output_facts(node: nuke.Node) -> Tuple[Dict[str, str], List[str]]:
    """(output node id -> title, preview-only output ids) of the node's workflow."""
    try:
        path = knobs.evaluated(node, knobs.WORKFLOW)
    except NukeComfyError:
        return {}, []
    info = get_session().farm.pool.object_info()  # converts a UI-format workflow as the scheduler did
    return output_titles(path, info), preview_nodes(path, info)


def _group_of(name: str) -> str:
    node = knobs.comfy_node(name)
    group_id = job_state.load(node).group_id
    if not group_id:
        raise knobs.NodeSetupError(f"{name} has not been rendered yet; press Render first")
    return group_id


def cancel_node(name: str, session: Optional[HostSession] = None,
                wait: bool = False) -> Optional[threading.Thread]:
    """Cancel the node's group on every server (pending deleted, running interrupted by prompt id).

    The network part runs on a worker thread; its outcome is applied on the main thread. With
    wait (tests) the call returns after the cancel finished; else it returns at once. Without a
    GUI (`nuke -t`) there is no event loop to hand the outcome back through, so the cancel runs
    here, synchronously (each server call is bounded), and None is returned.
    """
    session = session or get_session()
    group_id = _group_of(name)
    scheduler = session.farm.scheduler
    node = knobs.comfy_node(name)
    knobs.show_status(node, "cancelling on every server...")

    def work() -> None:
        try:
            scheduler.cancel(group_id)
        except Exception as exc:  # noqa: BLE001 - reported on the node, never raised into a thread
            log.warning("nuke-comfyui: cancelling %s failed: %s", name, exc)
        call_on_main(apply_snapshot, name, scheduler.snapshot(group_id))

    if not nuke.GUI:
        try:
            scheduler.cancel(group_id)
        finally:
            apply_snapshot(name, scheduler.snapshot(group_id))
        return None
    worker = threading.Thread(target=work, name=f"nuke-comfyui-cancel-{name}", daemon=True)
    worker.start()
    if wait:
        worker.join(60)
    return worker


def retry_node(name: str, *, watch: bool = True, session: Optional[HostSession] = None) -> None:
    """Render the node's failed frames again, with the same seeds."""
    session = session or get_session()
    group_id = _group_of(name)
    node = knobs.comfy_node(name)
    check_farm_answers(node, session, what="retried")
    state = job_state.load(node)
    state.reported_failures = {}
    job_state.save(node, state)
    with halted_journal_said(node, session.farm.scheduler, "retried", "'Retry failed'"):
        session.farm.scheduler.retry_failed(group_id)  # a halted journal is written again first
    if watch:
        session.watch(name, group_id, apply_snapshot)
    apply_snapshot(name, session.farm.scheduler.snapshot(group_id))


def attach_node(name: str, *, watch: bool = True, session: Optional[HostSession] = None) -> Optional[str]:
    """Re-attach a node to its journaled group after the script was reopened; returns the group id.

    Unfinished groups are resumed from the journal (jobs already sent are followed, not resent).
    """
    node = knobs.comfy_node(name)
    state = job_state.load(node)
    if not state.group_id:
        return None
    session = session or get_session()
    scheduler = session.farm.scheduler
    if state.state not in ("completed", "cancelled"):
        scheduler.resume(state.group_id)
    snapshot = scheduler.snapshot(state.group_id)
    if watch and not is_finished(snapshot):
        session.watch(name, state.group_id, apply_snapshot)
    apply_snapshot(name, snapshot)
    return state.group_id


def comfy_node_names(only_unfinished: bool = False) -> List[str]:
    """Full names of the Comfy nodes in the script, inside groups too (optionally only in-flight ones)."""
    names = []
    for node in knobs.all_comfy_nodes():
        state = job_state.load(node)
        if only_unfinished and (not state.group_id or state.state in ("completed", "failed", "cancelled")):
            continue
        names.append(node.fullName())
    return names


def reattach_all() -> None:
    """onScriptLoad (GUI): re-attach every node whose render was still in flight when the script was
    saved. The nodes' input arrows were labelled just before, by init.py's hook (host.arrival)."""
    for name in comfy_node_names(only_unfinished=True):
        try:
            attach_node(name)
        except Exception as exc:  # noqa: BLE001 - one bad node must not stop the script loading
            log.warning("nuke-comfyui: could not re-attach %s: %s", name, exc)
            node = find_node(name)
            if node is not None:
                knobs.show_status(node, f"not re-attached: {exc}")
