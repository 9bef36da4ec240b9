"""The Comfy node's "Submit to farm" button: the node's render as an OpenJD job bundle.

The button opens a small dialog (ui/farm_dialog.py: workers, frames and variations per task,
priority, retries, failed tasks, suspended, the bundle folder; Submit or Save bundle only).
The plate is written exactly where the Render button would write it (into a server's shared
folder, else under the output folder), so the farm reads it from the same shared storage; the
bundle goes where the dialog says (default <script folder>/comfyui_farm/<node>_<group>/). Submit
runs `deadline bundle submit` on a worker thread (bounded, the answer shown on the main thread);
it is offered only when AWS Deadline Cloud's `deadline` command is installed. The script's OCIO
config travels with the job (host/script_colour.py), and the asset references list what is not
on a shared server's storage. `nuke -t headless.py --farm` takes the same choices as flags.
The Workflow tab's values (animated knobs per frame) travel in `input_values.json` beside the
template (an InputValues job parameter, `render --values`), and the node's server choice as
`--servers`, so a farm task renders what the Render button would.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from typing import Any, List, Optional

import nuke

from nuke_comfyui.farm_bundle.choices import FarmChoices
from nuke_comfyui.host import knobs
from nuke_comfyui.host.render import node_request
from nuke_comfyui.host.script_colour import script_ocio_config
from nuke_comfyui.host.session import HostSession, get_session

log = logging.getLogger(__name__)
SUBMIT_TIMEOUT_S = 300.0
VALUES_FILE = "input_values.json"  # beside template.yaml: the Workflow tab's values (render --values)


def bundle_folder(node_name: str, group_id: str) -> str:
    """<script folder>/comfyui_farm/<node>_<group[:8]>; an unsaved script has no folder to write next to."""
    try:
        script = nuke.scriptName()
    except RuntimeError:
        raise knobs.NodeSetupError(
            f"{node_name}: save the script first; the farm bundle is written next to it"
        ) from None
    return os.path.join(os.path.dirname(script), "comfyui_farm", f"{node_name}_{group_id[:8]}")


def write_node_bundle(name: str, *, frames: Optional[str] = None, choices: Optional[FarmChoices] = None,
                      session: Optional[HostSession] = None, group_id: Optional[str] = None) -> Any:
    """Write the plate and the job bundle of the Comfy node `name`; returns the WrittenBundle. Main thread."""
    from nuke_comfyui.core.input_values_file import write_values_file
    from nuke_comfyui.farm_bundle.asset_references import shared_roots
    from nuke_comfyui.farm_bundle.bundle import check_renderable, write_render_bundle
    from nuke_comfyui.farm_bundle.template import BundleOptions

    session = session or get_session()
    choices = choices or FarmChoices()
    choices.validate()
    bundle_folder(name, "")  # an unsaved script is refused before any frame is written
    ocio = script_ocio_config()  # a broken colour setting is said before any frame is written
    request = node_request(knobs.comfy_node(name), session, frames)
    request.workflow_path = os.path.abspath(request.workflow_path)
    request.output_dir = os.path.abspath(request.output_dir)
    check_renderable(request)
    layout = choices.layout
    options = BundleOptions(layout=layout, frames_per_task=choices.frames_per_task,
                            variations_per_task=choices.variations_per_task, scheduling=choices.scheduling,
                            ocio_config=ocio)
    if group_id:
        options.group_id = group_id  # the one the dialog's default folder was named after
    folder = os.path.abspath(choices.bundle_dir) if choices.bundle_dir else bundle_folder(name, options.group_id)
    if request.values or request.frame_values:  # the Workflow tab's knobs, animated ones per frame
        options.values_file = write_values_file(os.path.join(folder, VALUES_FILE), request.values,
                                                request.frame_values)
    if request.servers and layout == "thin":  # the node's server choice (gpu: each worker's own server)
        options.extra_render_args += ["--servers", ",".join(request.servers)]
    written = write_render_bundle(folder, request, options, shared=shared_roots(session.farm.pool.servers()))
    log.info("%s: farm bundle written to %s (%s)", name, written.folder, "; ".join(written.notes))
    return written


def submit_this_node() -> None:
    """The gizmo button's command: never raises into Nuke, reports problems to the artist."""
    from nuke_comfyui.core.errors import NukeComfyError

    name = nuke.thisNode().fullName()  # inside a Group the bare name is not found from the root
    try:
        submit_button(name)
    except NukeComfyError as exc:
        _tell(f"ComfyUI submit to farm {name}: {exc}")
    except Exception as exc:
        log.exception("ComfyUI submit to farm %s failed", name)
        _tell(f"ComfyUI submit to farm {name} failed unexpectedly: {exc} (details in the terminal log)")


def _tell(text: str) -> None:
    log.warning("%s", text)
    if nuke.GUI:
        nuke.message(text)


def ask_choices(name: str, defaults: FarmChoices, *, deadline_found: bool) -> Optional[FarmChoices]:
    """The Submit to farm dialog for node `name` (None: cancelled). Main thread."""
    from nuke_comfyui.ui import farm_dialog

    node = knobs.comfy_node(name)
    has_frames = bool(node.inputs()) or str(node[knobs.FRAME_MODE].value()) == "custom"
    return farm_dialog.ask(f"{name}: submit to farm", defaults, deadline_found=deadline_found,
                           has_frames=has_frames, variations=int(node[knobs.VARIATIONS].value()))


def submit_button(name: str) -> None:
    """What the button does: ask (the dialog), write the bundle, then submit it or say where it is."""
    import uuid

    from nuke_comfyui.farm_bundle.bundle import deadline_executable

    found = deadline_executable() is not None
    group_id = uuid.uuid4().hex
    defaults = FarmChoices(bundle_dir=bundle_folder(name, group_id))  # unsaved script: refused here
    choices = ask_choices(name, defaults, deadline_found=found)
    if choices is None:
        return
    written = write_node_bundle(name, choices=choices, group_id=group_id)
    command = written.submit_command()
    if choices.submit and found:
        submit_in_background(name, command)
        return
    how = ("" if found else "\nfrom a machine with AWS Deadline Cloud's `deadline` command")
    nuke.message(f"{name}: the farm job bundle is in\n{written.folder}\n" + "\n".join(written.notes)
                 + f"\n\nSubmit it{how}:\n{_shell(command)}")


def submit_in_background(name: str, command: List[str]) -> threading.Thread:
    """Run `deadline bundle submit` off the main thread (bounded) and tell the artist how it went."""
    def work() -> None:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=SUBMIT_TIMEOUT_S, check=False)
            text = (f"{name}: submitted to the farm." if done.returncode == 0 else
                    f"{name}: `deadline bundle submit` failed (exit {done.returncode}):\n{done.stderr[-800:]}")
        except subprocess.TimeoutExpired:
            text = (f"{name}: `deadline bundle submit` did not finish in {SUBMIT_TIMEOUT_S:.0f} s; check "
                    f"`deadline config show` and your login, then run: {_shell(command)}")
        except OSError as exc:
            text = f"{name}: could not run `deadline`: {exc}; run it by hand: {_shell(command)}"
        log.info("%s", text)
        nuke.executeInMainThread(nuke.message, (text,))

    thread = threading.Thread(target=work, name=f"nuke-comfyui-submit-{name}", daemon=True)
    thread.start()
    return thread


def headless_bundles(names: List[str], *, frames: Optional[str], choices: FarmChoices) -> int:
    """`nuke -t headless.py --farm`: a bundle per node; with --submit, `deadline bundle submit` each.
    With --bundle-dir and several nodes, each node's bundle goes into a subfolder named after it."""
    from dataclasses import replace

    from nuke_comfyui.farm_bundle.bundle import deadline_executable

    code = 0
    submit = choices.submit
    for name in names:
        folder = choices.bundle_dir
        if folder and len(names) > 1:
            folder = os.path.join(folder, name.replace(".", "_"))
        written = write_node_bundle(name, frames=frames, choices=replace(choices, bundle_dir=folder))
        command = written.submit_command()
        print(f"[nuke-comfyui] {name}: farm bundle {written.folder}", flush=True)
        for note in written.notes:
            print(f"[nuke-comfyui] {name}: {note}", flush=True)
        if not submit:
            print(f"[nuke-comfyui] {name}: submit with: {_shell(command)}", flush=True)
        elif deadline_executable() is None:
            print(f"[nuke-comfyui] {name}: `deadline` is not installed; submit with: {_shell(command)}", flush=True)
            code = 1
        else:
            try:
                done = subprocess.run(command, timeout=SUBMIT_TIMEOUT_S, check=False)
                code = code or (1 if done.returncode else 0)
            except subprocess.TimeoutExpired:
                print(f"[nuke-comfyui] {name}: `deadline bundle submit` timed out after "
                      f"{SUBMIT_TIMEOUT_S:.0f} s", flush=True)
                code = 1
    return code


def _shell(command: List[str]) -> str:
    import shlex

    return " ".join(shlex.quote(part) for part in command)
